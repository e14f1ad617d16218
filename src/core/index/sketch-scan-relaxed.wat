;; scan4 of sketch-scan.wat (see there for the layout and the scores) with WebAssembly's relaxed SIMD, where the engine
;; has it: i32x4.relaxed_dot_i8x16_i7x16_add_s multiplies sixteen int8 lanes by sixteen 7-bit ones at a time, where
;; i32x4.dot_i16x8_s takes eight 16-bit lanes. Its result is exact and the same on every engine while the 7-bit operand
;; is 0 … 127 and the int8 one is −127 … 127 (no pair of products can saturate a 16-bit sum then): so each nibble n
;; goes in as n + 8 (its XOR with 8), whose extra 8 · Σ query[j] is taken off the dot; and the query, int16 in memory,
;; must lie within −127 … 127 (sketch-kernel.ts quantises it so for int4 sketches), where narrowing it to int8 keeps it.
;; The dots, and so the scores, are those scan4 gives for the same query. Assembled by `npm run wasm` into
;; sketch-scan-relaxed-wasm.ts.
(module
  (import "env" "memory" (memory 1))
  (func $sum (param $acc v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
  (func (export "scan4")
    (param $heads i32) (param $headStride i32) (param $headDims i32) (param $rests i32) (param $restStride i32) (param $restDims i32)
    (param $scales i32) (param $query i32) (param $slots i32) (param $count i32) (param $out i32)
    (local $i i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $end i32) (local $inRests i32) (local $q i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $v v128)
    (local $qLow v128) (local $qHigh v128) (local $sums v128) (local $pairs23 v128)
    (local $offset v128) (local $k88 v128) (local $k0f v128)
    (local.set $k88 (v128.const i8x16 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88 0x88))
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    ;; $offset (in each lane): 8 · Σ query[j] over the components scored, what the nibbles' bias of 8 adds to every dot.
    (local.set $q (local.get $query))
    (local.set $end (i32.add (local.get $query) (i32.shl (i32.add (local.get $headDims) (local.get $restDims)) (i32.const 1))))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $offset (i32x4.add (local.get $offset) (i32x4.dot_i16x8_s (v128.load (local.get $q)) (v128.const i16x8 8 8 8 8 8 8 8 8))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $sum)))
    (local.set $offset (i32x4.splat (call $sum (local.get $offset))))
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
              (local.set $qLow (i8x16.narrow_i16x8_s (v128.load (local.get $q)) (v128.load offset=16 (local.get $q))))
              (local.set $qHigh (i8x16.narrow_i16x8_s (v128.load offset=32 (local.get $q)) (v128.load offset=48 (local.get $q))))
              (local.set $q (i32.add (local.get $q) (i32.const 64)))
              (local.set $v (v128.xor (v128.load (local.get $p0)) (local.get $k88)))
              (local.set $acc0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qLow) (v128.and (local.get $v) (local.get $k0f))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qHigh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $acc0))))
              (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
              (local.set $v (v128.xor (v128.load (local.get $p1)) (local.get $k88)))
              (local.set $acc1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qLow) (v128.and (local.get $v) (local.get $k0f))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qHigh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $acc1))))
              (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
              (local.set $v (v128.xor (v128.load (local.get $p2)) (local.get $k88)))
              (local.set $acc2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qLow) (v128.and (local.get $v) (local.get $k0f))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qHigh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $acc2))))
              (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
              (local.set $v (v128.xor (v128.load (local.get $p3)) (local.get $k88)))
              (local.set $acc3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qLow) (v128.and (local.get $v) (local.get $k0f))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $qHigh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $acc3))))
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
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $sums) (local.get $offset)))
            (f32x4.replace_lane 3
              (f32x4.replace_lane 2
                (f32x4.replace_lane 1
                  (f32x4.splat (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s0) (i32.const 2)))))
                  (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s1) (i32.const 2)))))
                (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s2) (i32.const 2)))))
              (f32.load (i32.add (local.get $scales) (i32.shl (local.get $s3) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $items)))))
