//! Which generator file a companion file (a sketch encoder, a set of face directions) belongs to.

/// [`fnv1a`] of a weights file, in hex. A hash of the bytes, not of the weights: re-exporting a
/// generator makes a new one, and its companions must be made again.
pub fn fingerprint(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(bytes))
}

/// FNV-1a, 64 bit: a stable hash of bytes, the same on every platform (std's hashers promise
/// no stability across versions, and no crate is worth eight lines).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_for_different_bytes() {
        assert_eq!(fingerprint(b"abc"), fingerprint(b"abc"));
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
        assert_eq!(fingerprint(b"").len(), 16);
    }
}
