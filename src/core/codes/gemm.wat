;; C = A · Bᵀ in float64 (WebAssembly SIMD, f64x2), four rows of A by four rows of B
;; per pass over k: the products of a coder's training (linalg.ts multiplyABt).
;; Assembled by `npm run wasm` into gemm-wasm.ts; linalg.ts lays out the memory.
;;
;; abt(a, b, out, rows, k, cols, upper): for i < rows and j < cols (only the
;; 4 × 4 blocks with j ≥ i when upper ≠ 0),
;;   out[i · cols + j] = Σ_p a[i · k + p] · B[j][p]   (f64, products added in order p = 0, 1, …)
;; Each f64 lane holds one entry's sum and adds its products in the same order as
;; the plain loop in linalg.ts, so the two agree to the bit. a is rows × k f64,
;; row-major; B is stored in pairs of rows, interleaved: rows 2J and 2J + 1 at
;; b + (J · k + p) · 16, as one f64x2 per p. rows and cols are multiples of 4
;; (the caller pads with zeros). Byte addresses.
(module
  (import "env" "memory" (memory 1))
  (func (export "abt") (param $a i32) (param $b i32) (param $out i32) (param $rows i32) (param $k i32) (param $cols i32) (param $upper i32)
    (local $i i32) (local $j i32) (local $p i32) (local $rowBytes i32) (local $pairBytes i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b0 i32) (local $b1 i32) (local $o i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $y0 v128) (local $y1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 3)))
    (local.set $pairBytes (i32.shl (local.get $k) (i32.const 4)))
    (block $rowsDone
      (loop $rowBlocks
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $rowBytes)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $rowBytes)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $rowBytes)))
        (local.set $j (select (local.get $i) (i32.const 0) (local.get $upper)))
        (block $colsDone
          (loop $colBlocks
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $b0 (i32.add (local.get $b) (i32.mul (i32.shr_u (local.get $j) (i32.const 1)) (local.get $pairBytes))))
            (local.set $b1 (i32.add (local.get $b0) (local.get $pairBytes)))
            (local.set $s00 (v128.const f64x2 0 0)) (local.set $s01 (v128.const f64x2 0 0))
            (local.set $s10 (v128.const f64x2 0 0)) (local.set $s11 (v128.const f64x2 0 0))
            (local.set $s20 (v128.const f64x2 0 0)) (local.set $s21 (v128.const f64x2 0 0))
            (local.set $s30 (v128.const f64x2 0 0)) (local.set $s31 (v128.const f64x2 0 0))
            (local.set $p (i32.const 0))
            (block $kDone
              (loop $products
                (br_if $kDone (i32.ge_u (local.get $p) (local.get $rowBytes)))
                (local.set $x0 (v128.load64_splat (i32.add (local.get $a0) (local.get $p))))
                (local.set $x1 (v128.load64_splat (i32.add (local.get $a1) (local.get $p))))
                (local.set $x2 (v128.load64_splat (i32.add (local.get $a2) (local.get $p))))
                (local.set $x3 (v128.load64_splat (i32.add (local.get $a3) (local.get $p))))
                (local.set $y0 (v128.load (i32.add (local.get $b0) (i32.shl (local.get $p) (i32.const 1)))))
                (local.set $y1 (v128.load (i32.add (local.get $b1) (i32.shl (local.get $p) (i32.const 1)))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $x0) (local.get $y0))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $x0) (local.get $y1))))
                (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $x1) (local.get $y0))))
                (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $x1) (local.get $y1))))
                (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $x2) (local.get $y0))))
                (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $x2) (local.get $y1))))
                (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $x3) (local.get $y0))))
                (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $x3) (local.get $y1))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (br $products)))
            (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 3))))
            (v128.store (local.get $o) (local.get $s00))
            (v128.store offset=16 (local.get $o) (local.get $s01))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 3))))
            (v128.store (local.get $o) (local.get $s10))
            (v128.store offset=16 (local.get $o) (local.get $s11))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 3))))
            (v128.store (local.get $o) (local.get $s20))
            (v128.store offset=16 (local.get $o) (local.get $s21))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 3))))
            (v128.store (local.get $o) (local.get $s30))
            (v128.store offset=16 (local.get $o) (local.get $s31))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $colBlocks)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowBlocks)))))
