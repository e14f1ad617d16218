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
;;   its high one; headDims and restDims are multiples of 32. It scores four
;;   sketches at a time, so count must be a multiple of 4 (the caller pads).
;; headDims is positive.
(module
  (import "env" "memory" (memory 1))
  (func $sum (param $acc v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
  ;; scan8 scores one sketch per $items iteration: its components from $at to $end (the head, then the rest)
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
  ;; scan4 scores sketches s0 … s3 side by side, in the same order (the head, then the rest, the query running on):
  ;; each block of the query is loaded once for the four, and the four sums are independent, so the processor overlaps
  ;; them (over the same sketches, 1.35× the speed of one at a time in Chromium, 50 000 of them; 1.57× in Node,
  ;; 200 000, bench:kernels). The four sketches' steps are written out and must stay alike but for their number: the
  ;; same steps as a function called per block took 2.3× as long in Node 20 and Chromium 150, which do not inline it.
  ;; Bytes 0–7 of a block ($front) and 8–15 ($back) are widened to 16-bit lanes with their sign; then each nibble is
  ;; sign-extended there (x86 has 16-bit shifts, not 8-bit ones): shifted arithmetically right by 4, a lane is its high
  ;; nibble; shifted left by 12 first, its low one.
  (func (export "scan4")
    (param $heads i32) (param $headStride i32) (param $headDims i32) (param $rests i32) (param $restStride i32) (param $restDims i32)
    (param $scales i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $end i32) (local $inRests i32) (local $q i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $v v128) (local $front v128) (local $back v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $sums v128) (local $pairs23 v128)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s0 (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $s1 (i32.load offset=4 (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $s2 (i32.load offset=8 (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $s3 (i32.load offset=12 (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $p0 (i32.add (local.get $heads) (i32.mul (local.get $s0) (local.get $headStride))))
        (local.set $p1 (i32.add (local.get $heads) (i32.mul (local.get $s1) (local.get $headStride))))
        (local.set $p2 (i32.add (local.get $heads) (i32.mul (local.get $s2) (local.get $headStride))))
        (local.set $p3 (i32.add (local.get $heads) (i32.mul (local.get $s3) (local.get $headStride))))
        (local.set $end (i32.add (local.get $p0) (i32.shr_u (local.get $headDims) (i32.const 1))))
        (local.set $inRests (i32.const 0))
        (local.set $q (local.get $query))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $acc3 (v128.const i32x4 0 0 0 0))
        (loop $parts
          (block $partDone
            (loop $blocks
              (br_if $partDone (i32.ge_u (local.get $p0) (local.get $end)))
              (local.set $q0 (v128.load (local.get $q)))
              (local.set $q1 (v128.load offset=16 (local.get $q)))
              (local.set $q2 (v128.load offset=32 (local.get $q)))
              (local.set $q3 (v128.load offset=48 (local.get $q)))
              (local.set $q (i32.add (local.get $q) (i32.const 64)))
              (local.set $v (v128.load (local.get $p0)))
              (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
              (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
              (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.add
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (local.get $q0))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (local.get $q1)))
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (local.get $q2))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (local.get $q3))))))
              (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
              (local.set $v (v128.load (local.get $p1)))
              (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
              (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
              (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.add
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (local.get $q0))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (local.get $q1)))
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (local.get $q2))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (local.get $q3))))))
              (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
              (local.set $v (v128.load (local.get $p2)))
              (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
              (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
              (local.set $acc2 (i32x4.add (local.get $acc2) (i32x4.add
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (local.get $q0))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (local.get $q1)))
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (local.get $q2))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (local.get $q3))))))
              (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
              (local.set $v (v128.load (local.get $p3)))
              (local.set $front (i16x8.extend_low_i8x16_s (local.get $v)))
              (local.set $back (i16x8.extend_high_i8x16_s (local.get $v)))
              (local.set $acc3 (i32x4.add (local.get $acc3) (i32x4.add
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $front) (i32.const 12)) (i32.const 12)) (local.get $q0))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $back) (i32.const 12)) (i32.const 12)) (local.get $q1)))
                (i32x4.add (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $front) (i32.const 4)) (local.get $q2))
                           (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $back) (i32.const 4)) (local.get $q3))))))
              (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
              (br $blocks)))
          (if (i32.and (i32.eqz (local.get $inRests)) (i32.gt_u (local.get $restDims) (i32.const 0)))
            (then
              (local.set $inRests (i32.const 1))
              (local.set $p0 (i32.add (local.get $rests) (i32.mul (local.get $s0) (local.get $restStride))))
              (local.set $p1 (i32.add (local.get $rests) (i32.mul (local.get $s1) (local.get $restStride))))
              (local.set $p2 (i32.add (local.get $rests) (i32.mul (local.get $s2) (local.get $restStride))))
              (local.set $p3 (i32.add (local.get $rests) (i32.mul (local.get $s3) (local.get $restStride))))
              (local.set $end (i32.add (local.get $p0) (i32.shr_u (local.get $restDims) (i32.const 1))))
              (br $parts))))
        ;; A transpose by shuffles and adds: lane k of $sums ends as the sum of $acc<k>'s lanes ($sums first holds the
        ;; pairwise sums of $acc0 and $acc1, $pairs23 those of $acc2 and $acc3).
        (local.set $sums (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc0) (local.get $acc1))
                                    (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc0) (local.get $acc1))))
        (local.set $pairs23 (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc2) (local.get $acc3))
                                    (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc2) (local.get $acc3))))
        (local.set $sums (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $sums) (local.get $pairs23))
                                    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $sums) (local.get $pairs23))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32x4.mul (f32x4.convert_i32x4_s (local.get $sums))
            (f32x4.replace_lane 3
              (f32x4.replace_lane 2
                (f32x4.replace_lane 1
                  (f32x4.splat (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s0) (i32.const 2)))))
                  (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s1) (i32.const 2)))))
                (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s2) (i32.const 2)))))
              (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s3) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $items)))))
