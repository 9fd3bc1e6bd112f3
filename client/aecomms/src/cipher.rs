//! Noise's `ChaChaPoly` cipher functions over a zeroizing key: `ENCRYPT`/`DECRYPT` in place with
//! the Noise nonce layout, and `REKEY`.

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;

/// Noise's reserved nonce: used by `REKEY`, never by a frame.
pub(crate) const REKEY_NONCE: u64 = u64::MAX;

/// The Noise ChaChaPoly nonce of counter `n`: 32 zero bits, then `n` little endian.
fn nonce(n: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&n.to_le_bytes());
    bytes.into()
}

/// One ChaCha20-Poly1305 key; the cipher zeroizes it on drop.
pub(crate) struct CipherKey(ChaCha20Poly1305);

impl CipherKey {
    /// The cipher of `key`.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self(ChaCha20Poly1305::new(&Key::from(*key)))
    }

    /// Encrypts `buf` in place under nonce `n` and returns the tag. Fails only for a buffer
    /// beyond ChaCha20's 256 GiB limit.
    pub(crate) fn seal(&self, n: u64, ad: &[u8], buf: &mut [u8]) -> Option<[u8; TAG_LEN]> {
        self.0.encrypt_in_place_detached(&nonce(n), ad, buf).ok().map(Into::into)
    }

    /// Checks the tag and decrypts `buf` in place. On failure `buf` is unchanged.
    pub(crate) fn open(&self, n: u64, ad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> bool {
        self.0.decrypt_in_place_detached(&nonce(n), ad, buf, &Tag::from(*tag)).is_ok()
    }

    /// Noise `REKEY(k)`: the first 32 bytes of `ENCRYPT(k, 2^64 - 1, "", zeros[32])`.
    pub(crate) fn rekeyed(&self) -> Self {
        let mut next = Zeroizing::new([0u8; 32]);
        self.seal(REKEY_NONCE, &[], next.as_mut()).expect("32 bytes are within ChaCha20's limit");
        Self::new(&next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_undoes_seal_and_a_flipped_bit_leaves_the_buffer_as_it_was() {
        let key = CipherKey::new(&[9; 32]);
        let mut buf = b"sixteen byte msg".to_vec();
        let tag = key.seal(5, b"ad", &mut buf).unwrap();
        let sealed = buf.clone();
        assert!(!key.open(6, b"ad", &mut buf, &tag), "another nonce");
        assert!(!key.open(5, b"da", &mut buf, &tag), "another associated data");
        assert_eq!(buf, sealed);
        assert!(key.open(5, b"ad", &mut buf, &tag));
        assert_eq!(buf, b"sixteen byte msg");
    }

    #[test]
    fn rekey_is_deterministic_and_changes_the_key() {
        let key = CipherKey::new(&[9; 32]);
        let (a, b) = (key.rekeyed(), key.rekeyed());
        let mut x = [1u8; 8];
        let mut y = [1u8; 8];
        let mut z = [1u8; 8];
        assert_eq!(a.seal(0, &[], &mut x), b.seal(0, &[], &mut y));
        assert_eq!(x, y);
        key.seal(0, &[], &mut z).unwrap();
        assert_ne!(x, z);
    }
}
