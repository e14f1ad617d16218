;; Dot products of an int16 query with stored int8 embeddings (WebAssembly SIMD,
;; i32x4.dot_i16x8_s), the re-rank of every search. Assembled by `npm run wasm`
;; into score-int8-wasm.ts; int8-scorer.ts quantises the query, lays out the
;; memory and calls it.
;;
;; score(query, stride, vectors, count, out): for i in 0 … count − 1,
;;   out[i] = Σ_{d < stride} query[d] · vector_i[d]
;; with query stride i16 values (stride a multiple of 16), vector i the stride
;; int8 bytes from vectors + i · stride, out count f64 values (byte addresses).
;; Each of the four i32 lanes adds stride / 4 products; the caller bounds the
;; query's values so that no lane can overflow, and the lanes are added in f64,
;; so out[i] is the exact integer dot product, as a plain sum gives it.
(module
  (import "env" "memory" (memory 1))
  (func (export "score") (param $query i32) (param $stride i32) (param $vectors i32) (param $count i32) (param $out i32)
    (local $i i32) (local $d i32) (local $v i32) (local $q i32) (local $bytes v128) (local $acc v128)
    (local.set $v (local.get $vectors))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $d (i32.const 0))
        (local.set $q (local.get $query))
        (block $componentsDone
          (loop $components
            (br_if $componentsDone (i32.ge_u (local.get $d) (local.get $stride)))
            (local.set $bytes (v128.load (i32.add (local.get $v) (local.get $d))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $bytes)) (v128.load (local.get $q)))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $bytes)) (v128.load offset=16 (local.get $q)))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (br $components)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
          (f64.add
            (f64.add (f64.convert_i32_s (i32x4.extract_lane 0 (local.get $acc))) (f64.convert_i32_s (i32x4.extract_lane 1 (local.get $acc))))
            (f64.add (f64.convert_i32_s (i32x4.extract_lane 2 (local.get $acc))) (f64.convert_i32_s (i32x4.extract_lane 3 (local.get $acc))))))
        (local.set $v (i32.add (local.get $v) (local.get $stride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))))
