;; A coder's projection W·x in float64 (WebAssembly SIMD, f64x2), sixteen rows
;; per pass over the vector. Assembled by `npm run wasm` into projection-wasm.ts;
;; projection-kernel.ts lays out the memory and calls it.
;;
;; project(panels, panelCount, dim, x, out): for every row r,
;;   out[r] = Σ_k W[r][k] · x[k]   (f64, products added in order k = 0, 1, …)
;; Each f64 lane holds one row's sum and adds one product per step, in the same
;; order as the plain loop in projection-kernel.ts, so the two agree to the bit.
;; W is stored as f32 in panels of 16 rows, column by column: panel p holds
;; W[16p + j][k] at (p · dim + k) · 16 + j, so a pass streams through memory.
;; x is dim f64 values; out gets panelCount · 16 f64 values (byte addresses).
;;
;; project32(panels, panelCount, dim, x, out): the same sums in float32 (f32x4,
;; four lanes to f64x2's two, nothing widened), x dim f32 values and out f32
;; values: within γ_dim · Σ_k |W[r][k] · x[k]| of the exact sums (γ_n = n·2⁻²⁴ /
;; (1 − n·2⁻²⁴)) unless a product underflows or a sum overflows, which is all
;; that a code's bit needs unless the sum is that close to its threshold
;; (projection-kernel.ts).
(module
  (import "env" "memory" (memory 1))
  (func (export "project") (param $panels i32) (param $panelCount i32) (param $dim i32) (param $x i32) (param $out i32)
    (local $p i32) (local $k i32) (local $w i32) (local $xv v128) (local $xEnd i32) (local $o i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $s4 v128) (local $s5 v128) (local $s6 v128) (local $s7 v128)
    (local.set $w (local.get $panels))
    (local.set $xEnd (i32.add (local.get $x) (i32.shl (local.get $dim) (i32.const 3))))
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_u (local.get $p) (local.get $panelCount)))
        (local.set $s0 (v128.const f64x2 0 0)) (local.set $s1 (v128.const f64x2 0 0))
        (local.set $s2 (v128.const f64x2 0 0)) (local.set $s3 (v128.const f64x2 0 0))
        (local.set $s4 (v128.const f64x2 0 0)) (local.set $s5 (v128.const f64x2 0 0))
        (local.set $s6 (v128.const f64x2 0 0)) (local.set $s7 (v128.const f64x2 0 0))
        (local.set $k (local.get $x))
        (loop $columns
          (local.set $xv (v128.load64_splat (local.get $k)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $w))) (local.get $xv))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))) (local.get $xv))))
          (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $w))) (local.get $xv))))
          (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $w))) (local.get $xv))))
          (local.set $s4 (f64x2.add (local.get $s4) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=32 (local.get $w))) (local.get $xv))))
          (local.set $s5 (f64x2.add (local.get $s5) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=40 (local.get $w))) (local.get $xv))))
          (local.set $s6 (f64x2.add (local.get $s6) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=48 (local.get $w))) (local.get $xv))))
          (local.set $s7 (f64x2.add (local.get $s7) (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=56 (local.get $w))) (local.get $xv))))
          (local.set $w (i32.add (local.get $w) (i32.const 64)))
          (local.set $k (i32.add (local.get $k) (i32.const 8)))
          (br_if $columns (i32.lt_u (local.get $k) (local.get $xEnd))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 7))))
        (v128.store (local.get $o) (local.get $s0))
        (v128.store offset=16 (local.get $o) (local.get $s1))
        (v128.store offset=32 (local.get $o) (local.get $s2))
        (v128.store offset=48 (local.get $o) (local.get $s3))
        (v128.store offset=64 (local.get $o) (local.get $s4))
        (v128.store offset=80 (local.get $o) (local.get $s5))
        (v128.store offset=96 (local.get $o) (local.get $s6))
        (v128.store offset=112 (local.get $o) (local.get $s7))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panelLoop))))
  (func (export "project32") (param $panels i32) (param $panelCount i32) (param $dim i32) (param $x i32) (param $out i32)
    (local $p i32) (local $k i32) (local $w i32) (local $xv v128) (local $xEnd i32) (local $o i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $w (local.get $panels))
    (local.set $xEnd (i32.add (local.get $x) (i32.shl (local.get $dim) (i32.const 2))))
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_u (local.get $p) (local.get $panelCount)))
        (local.set $s0 (v128.const f32x4 0 0 0 0)) (local.set $s1 (v128.const f32x4 0 0 0 0))
        (local.set $s2 (v128.const f32x4 0 0 0 0)) (local.set $s3 (v128.const f32x4 0 0 0 0))
        (local.set $k (local.get $x))
        (loop $columns
          (local.set $xv (v128.load32_splat (local.get $k)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $w)) (local.get $xv))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $w)) (local.get $xv))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $w)) (local.get $xv))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $w)) (local.get $xv))))
          (local.set $w (i32.add (local.get $w) (i32.const 64)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br_if $columns (i32.lt_u (local.get $k) (local.get $xEnd))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (v128.store (local.get $o) (local.get $s0))
        (v128.store offset=16 (local.get $o) (local.get $s1))
        (v128.store offset=32 (local.get $o) (local.get $s2))
        (v128.store offset=48 (local.get $o) (local.get $s3))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panelLoop)))))
