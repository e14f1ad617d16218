;; A fixed f32 matrix times a vector (WebAssembly SIMD, f32x4), four rows per
;; pass over the vector. Assembled by `npm run wasm` into matvec-wasm.ts;
;; matrix-kernel.ts lays out the memory and calls it.
;;
;; matvec(matrix, rows, stride, x, out): for r in 0 … rows − 1,
;;   out[r] = Σ_k matrix[r · stride + k] · x[k]   (f32; four partial sums per row)
;; with matrix an f32 array of rows × stride (row-major), x of stride and out of
;; rows values (byte addresses). rows and stride are multiples of 4: the caller
;; pads with zeros.
(module
  (import "env" "memory" (memory 1))
  (func $sum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  (func (export "matvec") (param $matrix i32) (param $rows i32) (param $stride i32) (param $x i32) (param $out i32)
    (local $r i32) (local $k i32) (local $rowBytes i32) (local $xv v128)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $a0 (i32.add (local.get $matrix) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $rowBytes)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $rowBytes)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $rowBytes)))
        (local.set $s0 (v128.const f32x4 0 0 0 0))
        (local.set $s1 (v128.const f32x4 0 0 0 0))
        (local.set $s2 (v128.const f32x4 0 0 0 0))
        (local.set $s3 (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $columns
          (local.set $xv (v128.load (i32.add (local.get $x) (local.get $k))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (i32.add (local.get $a0) (local.get $k))) (local.get $xv))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load (i32.add (local.get $a1) (local.get $k))) (local.get $xv))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load (i32.add (local.get $a2) (local.get $k))) (local.get $xv))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load (i32.add (local.get $a3) (local.get $k))) (local.get $xv))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $columns (i32.lt_u (local.get $k) (local.get $rowBytes))))
        (local.set $a0 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))
        (f32.store (local.get $a0) (call $sum (local.get $s0)))
        (f32.store offset=4 (local.get $a0) (call $sum (local.get $s1)))
        (f32.store offset=8 (local.get $a0) (call $sum (local.get $s2)))
        (f32.store offset=12 (local.get $a0) (call $sum (local.get $s3)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowsLoop)))))
