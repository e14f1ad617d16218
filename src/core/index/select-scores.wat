;; The indexes of the scores at or above a threshold (WebAssembly SIMD: f32x4.ge and i32x4.bitmask), four scores a
;; step: how a sketch scan's pick (inverted-lists.ts) finds the few scores it must look at among all it scanned.
;; Assembled by `npm run wasm` into select-scores-wasm.ts; sketch-kernel.ts calls it on a scan's scores.
;;
;; atLeast(scores, count, threshold, out): writes every i < count with scores[i] ≥ threshold (f32; NaN never is), in
;; increasing order, to out (u32), and returns how many; scores and out are byte addresses, out has room for count.
(module
  (import "env" "memory" (memory 1))
  (func (export "atLeast") (param $scores i32) (param $count i32) (param $threshold f32) (param $out i32) (result i32)
    (local $i i32) (local $n i32) (local $fours i32) (local $mask i32) (local $t v128)
    (local.set $t (f32x4.splat (local.get $threshold)))
    (local.set $fours (i32.and (local.get $count) (i32.const -4)))
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.ge_u (local.get $i) (local.get $fours)))
        ;; Bit k of the mask: score i + k passes. Most groups have none; where some pass, each lane's index is written
        ;; at out[n] and n moves on past the passing ones (no branch per lane).
        (local.set $mask (i32x4.bitmask (f32x4.ge (v128.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))) (local.get $t))))
        (if (local.get $mask)
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.and (local.get $mask) (i32.const 1))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $i) (i32.const 1)))
            (local.set $n (i32.add (local.get $n) (i32.and (i32.shr_u (local.get $mask) (i32.const 1)) (i32.const 1))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $i) (i32.const 2)))
            (local.set $n (i32.add (local.get $n) (i32.and (i32.shr_u (local.get $mask) (i32.const 2)) (i32.const 1))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $i) (i32.const 3)))
            (local.set $n (i32.add (local.get $n) (i32.shr_u (local.get $mask) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $groups)))
    ;; The last count mod 4, one at a time.
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $i) (local.get $count)))
        (if (f32.ge (f32.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))) (local.get $threshold))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
    (local.get $n)))
