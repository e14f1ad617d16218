;; Scores of sketches against an int16 query (WebAssembly SIMD:
;; i32x4.dot_i16x8_s). Assembled by `npm run wasm` into sketch-scan-wasm.ts;
;; sketch-kernel.ts lays out the memory and calls it.
;;
;; A sketch array keeps each sketch in two parts, in two regions: its head
;; (the first components) and its rest. For i in 0 … count − 1, with s = slots[i]:
;;   dot = Σ_{j < headDims} query[j] · head component j of sketch s (at heads + headStride · s)
;;       + Σ_{j < restDims} query[headDims + j] · rest component j of sketch s (at rests + restStride · s)
;;   out[i] = f32(dot) · scales[s]
;; with query an i16 array, slots a u32 array, scales and out f32 arrays (byte
;; addresses). restDims 0 scores heads alone.
;; - scan8: a component is an int8 byte; headDims and restDims are multiples of 16.
;; - scan4: components are signed nibbles in blocks of 16 bytes, byte b of
;;   block k holding component 32k + b in its low nibble and 32k + 16 + b in
;;   its high one; headDims and restDims are multiples of 32.
;; headDims is positive.
(module
  (import "env" "memory" (memory 1))
  (func $sum (param $acc v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
  ;; Each export scores one sketch per $items iteration: its components from $at to $end (the head, then the rest)
  ;; against the query from $q on, which runs on from the head's components into the rest's.
  (func (export "scan8")
    (param $heads i32) (param $headStride i32) (param $headDims i32) (param $rests i32) (param $restStride i32) (param $restDims i32)
    (param $scales i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $s i32) (local $acc v128) (local $v v128) (local $at i32) (local $end i32) (local $restAt i32) (local $restEnd i32) (local $q i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $at (i32.add (local.get $heads) (i32.mul (local.get $s) (local.get $headStride))))
        (local.set $end (i32.add (local.get $at) (local.get $headDims)))
        (local.set $restAt (i32.add (local.get $rests) (i32.mul (local.get $s) (local.get $restStride))))
        (local.set $restEnd (i32.add (local.get $restAt) (local.get $restDims)))
        (local.set $q (local.get $query))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (loop $parts
          (block $partDone
            (loop $components
              (br_if $partDone (i32.ge_u (local.get $at) (local.get $end)))
              (local.set $v (v128.load (local.get $at)))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load (local.get $q)))))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 (local.get $q)))))
              (local.set $at (i32.add (local.get $at) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 32)))
              (br $components)))
          (if (i32.lt_u (local.get $restAt) (local.get $restEnd))
            (then
              (local.set $at (local.get $restAt))
              (local.set $end (local.get $restEnd))
              (local.set $restAt (local.get $restEnd))
              (br $parts))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.mul (f32.convert_i32_s (call $sum (local.get $acc))) (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items))))
  (func (export "scan4")
    (param $heads i32) (param $headStride i32) (param $headDims i32) (param $rests i32) (param $restStride i32) (param $restDims i32)
    (param $scales i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $s i32) (local $acc v128) (local $v v128) (local $front v128) (local $back v128)
    (local $at i32) (local $end i32) (local $restAt i32) (local $restEnd i32) (local $q i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $at (i32.add (local.get $heads) (i32.mul (local.get $s) (local.get $headStride))))
        (local.set $end (i32.add (local.get $at) (i32.shr_u (local.get $headDims) (i32.const 1))))
        (local.set $restAt (i32.add (local.get $rests) (i32.mul (local.get $s) (local.get $restStride))))
        (local.set $restEnd (i32.add (local.get $restAt) (i32.shr_u (local.get $restDims) (i32.const 1))))
        (local.set $q (local.get $query))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (loop $parts
          (block $partDone
            (loop $components
              (br_if $partDone (i32.ge_u (local.get $at) (local.get $end)))
              (local.set $v (v128.load (local.get $at)))
              ;; Bytes 0–7 ($front) and 8–15 ($back) widened to 16-bit lanes with their sign; then each nibble is
              ;; sign-extended there (x86 has 16-bit shifts, not 8-bit ones): shifted arithmetically right by 4, a
              ;; lane is its high nibble; shifted left by 12 first, its low one.
              (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
              (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (v128.load (local.get $q)))))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (v128.load offset=16 (local.get $q)))))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (v128.load offset=32 (local.get $q)))))
              (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (v128.load offset=48 (local.get $q)))))
              (local.set $at (i32.add (local.get $at) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 64)))
              (br $components)))
          (if (i32.lt_u (local.get $restAt) (local.get $restEnd))
            (then
              (local.set $at (local.get $restAt))
              (local.set $end (local.get $restEnd))
              (local.set $restAt (local.get $restEnd))
              (br $parts))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.mul (f32.convert_i32_s (call $sum (local.get $acc))) (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))))
