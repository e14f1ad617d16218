;; Cosines of a query with stored int8 embeddings (WebAssembly SIMD, f64x2), the
;; re-rank of every search. Assembled by `npm run wasm` into score-int8-wasm.ts;
;; int8-scorer.ts lays out the memory and calls it.
;;
;; score(query, dim, vectors, count, out): for i in 0 … count − 1,
;;   out[i] = ((s0 + s1) + s2) + s3,   s_j = Σ_{d ≡ j mod 4} query[d] · vector_i[d]
;; the four partial sums of quantize.ts's scoreInt8, each added in the same order
;; (the dims past the last multiple of 4 go to s0), so the two agree to the bit:
;; every product of an f32 and an int8 is exact in f64. Lanes of $s01 are s0 and
;; s1, of $s23 s2 and s3. query is dim f64 values, the vectors count × dim int8
;; back to back, out count f64 values (byte addresses).
(module
  (import "env" "memory" (memory 1))
  (func (export "score") (param $query i32) (param $dim i32) (param $vectors i32) (param $count i32) (param $out i32)
    (local $i i32) (local $d i32) (local $v i32) (local $whole i32)
    (local $ints v128) (local $s01 v128) (local $s23 v128) (local $s0 f64)
    (local.set $whole (i32.and (local.get $dim) (i32.const -4)))
    (local.set $v (local.get $vectors))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s01 (v128.const f64x2 0 0))
        (local.set $s23 (v128.const f64x2 0 0))
        (local.set $d (i32.const 0))
        (block $wholeDone
          (loop $fours
            (br_if $wholeDone (i32.ge_u (local.get $d) (local.get $whole)))
            (local.set $ints (i32x4.extend_low_i16x8_s (i16x8.extend_low_i8x16_s (v128.load32_zero (i32.add (local.get $v) (local.get $d))))))
            (local.set $s01 (f64x2.add (local.get $s01)
              (f64x2.mul (v128.load (i32.add (local.get $query) (i32.shl (local.get $d) (i32.const 3)))) (f64x2.convert_low_i32x4_s (local.get $ints)))))
            (local.set $s23 (f64x2.add (local.get $s23)
              (f64x2.mul (v128.load offset=16 (i32.add (local.get $query) (i32.shl (local.get $d) (i32.const 3))))
                (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $ints) (local.get $ints))))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $fours)))
        (local.set $s0 (f64x2.extract_lane 0 (local.get $s01)))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $d) (local.get $dim)))
            (local.set $s0 (f64.add (local.get $s0)
              (f64.mul (f64.load (i32.add (local.get $query) (i32.shl (local.get $d) (i32.const 3))))
                (f64.convert_i32_s (i32.load8_s (i32.add (local.get $v) (local.get $d)))))))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $rest)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
          (f64.add (f64.add (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $s01)))
            (f64x2.extract_lane 0 (local.get $s23))) (f64x2.extract_lane 1 (local.get $s23))))
        (local.set $v (i32.add (local.get $v) (local.get $dim)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))))
