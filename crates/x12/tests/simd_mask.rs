//! The tokenizer's block mask (`x12::simd::mask64`, SSE2 `movemask` on x86-64) must equal the
//! portable safe mask and a plain byte-by-byte reference, for every terminator byte value
//! (0x1C, 0x85 and 0xFF included: `movemask` reads the sign bit, the compare must not) and for
//! random, sparse, dense and all-equal blocks.

use x12::simd::{mask64, mask64_portable};

fn reference(block: &[u8; 64], t: u8) -> u64 {
    block.iter().enumerate().filter(|&(_, &b)| b == t).fold(0, |m, (i, _)| m | 1 << i)
}

fn check(block: &[u8; 64], t: u8) {
    let want = reference(block, t);
    assert_eq!(mask64_portable(block, t), want, "portable, t {t:#04x}, block {block:?}");
    assert_eq!(mask64(block, t), want, "simd, t {t:#04x}, block {block:?}");
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn simd_mask_equals_safe_mask_for_every_terminator_byte() {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for t in 0..=255u8 {
        // Uniform random bytes, blocks mostly of `t`, every byte `t`, no byte `t`, and every
        // single-bit and neighbouring-byte pattern (each 16-byte lane's edges included).
        for _ in 0..64 {
            let mut block = [0u8; 64];
            for b in block.iter_mut() {
                *b = rng.next() as u8;
            }
            check(&block, t);
            let dense = rng.next();
            for (i, b) in block.iter_mut().enumerate() {
                if dense >> i & 1 == 1 {
                    *b = t;
                }
            }
            check(&block, t);
        }
        check(&[t; 64], t);
        check(&[!t; 64], t);
        check(&[t ^ 0x80; 64], t);
        for i in 0..64 {
            let mut block = [t.wrapping_add(1); 64];
            block[i] = t;
            check(&block, t);
            block[(i + 1) % 64] = t;
            check(&block, t);
        }
    }
}

/// The terminators the X12 standard and real files use, against the bytes of real segments.
#[test]
fn simd_mask_on_segment_text() {
    let text = b"CLM*PCN000000001*1450***11:B:1*Y*A*Y*Y~\nREF*G1*AUTH0000001~\nHI*ABK:M47816^ABF:M5416~\n\
GS|HC|X\x1cIEA|1|000000001\x1c\x85\xff\xfe\x7f\x80\x00~~~~";
    for t in [b'~', b'\n', b'\x1c', b'\x85', b'\xff', b'|', b'*', b':', b'^', 0] {
        for start in 0..text.len() - 64 {
            let block: &[u8; 64] = text[start..start + 64].try_into().expect("64 bytes");
            check(block, t);
        }
    }
}
