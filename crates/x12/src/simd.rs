//! The terminator bit mask of one 64-byte block: bit `i` set when `block[i] == t`.
//!
//! This is the tokenizer's inner kernel (see `tokenizer::Terminators`). On x86-64 it is four
//! SSE2 compares and four `movemask`s, the only `unsafe` code in the workspace (the workspace
//! denies `unsafe_code`; the one allowance is on the `sse2` module below, audited). Everywhere
//! else, and as the reference the SIMD path is tested against (`tests/simd_mask.rs`), it is the
//! portable safe version.
//!
//! Public but hidden from the docs only so that the integration tests can compare the two.

/// One bit per byte of `block` equal to `t`, bit `i` for `block[i]`.
#[inline(always)]
pub fn mask64(block: &[u8; 64], t: u8) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::mask64(block, t)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        mask64_portable(block, t)
    }
}

/// The same mask in safe, portable code: the byte compare vectorizes (`pcmpeqb` on x86-64), and
/// each eight 0/1 bytes are gathered into a byte of the mask with one multiply (byte `i`'s low
/// bit lands on bit `56 + i`, without carries). About twice the instructions of the SSE2 path:
/// safe Rust has no `movemask`, and a bit-shifting loop is not turned into one.
#[inline(always)]
pub fn mask64_portable(block: &[u8; 64], t: u8) -> u64 {
    let mut eq = [0u8; 64];
    for (e, &b) in eq.iter_mut().zip(block) {
        *e = u8::from(b == t);
    }
    let mut mask = 0u64;
    let mut k = 0;
    while k < 8 {
        let w = u64::from_le_bytes([
            eq[k * 8],
            eq[k * 8 + 1],
            eq[k * 8 + 2],
            eq[k * 8 + 3],
            eq[k * 8 + 4],
            eq[k * 8 + 5],
            eq[k * 8 + 6],
            eq[k * 8 + 7],
        ]);
        mask |= (w.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (k * 8);
        k += 1;
    }
    mask
}

/// SSE2 is part of the x86-64 baseline (every x86-64 CPU has it, and rustc's `x86_64-*` targets
/// enable it by default), so no runtime detection is needed. The function stays small and
/// `#[inline(always)]` so that it inlines into the tokenizer's loop; an AVX2 version would
/// need a runtime check and a `#[target_feature]` function that cannot inline into a caller
/// compiled without AVX2.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse2 {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};

    // The soundness argument below rests on this: fail the build, not the audit, if it stops
    // holding for some target.
    #[cfg(not(target_feature = "sse2"))]
    compile_error!("x86-64 targets enable SSE2; the SIMD terminator mask relies on it");

    #[inline(always)]
    pub(super) fn mask64(block: &[u8; 64], t: u8) -> u64 {
        let p = block.as_ptr().cast::<__m128i>();
        // SAFETY: every intrinsic here requires only SSE2, which is enabled for all x86-64
        // targets (checked at compile time above), so calling them is sound. The four loads
        // are `_mm_loadu_si128` (no alignment requirement) at byte offsets 0, 16, 32 and 48 of
        // `block`, a `&[u8; 64]`: each reads 16 bytes ending at most at offset 64, inside the
        // borrowed array, which is initialized and not mutated while borrowed. `p.add(k)`
        // moves by `k * 16` bytes, k <= 3, so it stays within the same allocation.
        unsafe {
            let needle = _mm_set1_epi8(i8::from_ne_bytes([t]));
            let m0 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p), needle));
            let m1 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(1)), needle));
            let m2 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(2)), needle));
            let m3 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(3)), needle));
            // `movemask` sets only the low 16 bits of its `i32`, so these casts lose nothing.
            (m0 as u16 as u64) | ((m1 as u16 as u64) << 16) | ((m2 as u16 as u64) << 32) | ((m3 as u16 as u64) << 48)
        }
    }
}
