;; Dot products of an int16 query with int8 or int4 sketches (WebAssembly SIMD:
;; i32x4.dot_i16x8_s). Assembled by `npm run wasm` into sketch-scan-wasm.ts;
;; sketch-kernel.ts lays out the memory and calls it.
;;
;; scan8(dims, query, slots, count, out) and scan4(…): for i in 0 … count − 1,
;;   out[i] = f32(Σ_j query[j] · component j of sketch slots[i])
;; with the sketches at address 0, query an i16 array, slots a u32 array and
;; out an f32 array (byte addresses).
;; - scan8: a sketch is dims int8 bytes; dims is a positive multiple of 16.
;; - scan4: a sketch is dims / 2 bytes of signed nibbles in blocks of 16 bytes,
;;   byte b of block k holding component 32k + b in its low nibble and
;;   32k + 16 + b in its high one; dims is a positive multiple of 32.
(module
  (import "env" "memory" (memory 1))
  (func $sum (param $acc v128) (result f32)
    (f32.convert_i32_s
      (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
        (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))
  (func (export "scan8") (param $dims i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $at i32) (local $j i32) (local $acc v128) (local $v v128) (local $q i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $at (i32.mul (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))) (local.get $dims)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (loop $components
          (local.set $v (v128.load (i32.add (local.get $at) (local.get $j))))
          (local.set $q (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 (local.get $q)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $components (i32.lt_u (local.get $j) (local.get $dims))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items))))
  (func (export "scan4") (param $dims i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $at i32) (local $j i32) (local $acc v128) (local $v v128) (local $front v128) (local $back v128) (local $q i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $at (i32.mul (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))) (i32.shr_u (local.get $dims) (i32.const 1))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (loop $components
          (local.set $v (v128.load (i32.add (local.get $at) (i32.shr_u (local.get $j) (i32.const 1)))))
          ;; Bytes 0–7 ($front) and 8–15 ($back) widened to 16-bit lanes with their sign; then each nibble is
          ;; sign-extended there (x86 has 16-bit shifts, not 8-bit ones): shifted arithmetically right by 4, a
          ;; lane is its high nibble; shifted left by 12 first, its low one.
          (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
          (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
          (local.set $q (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (v128.load (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (v128.load offset=16 (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (v128.load offset=32 (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (v128.load offset=48 (local.get $q)))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (br_if $components (i32.lt_u (local.get $j) (local.get $dims))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (call $sum (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))))
