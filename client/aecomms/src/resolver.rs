//! The primitives `snow` runs the handshake with: X25519 and ChaChaPoly whose secrets are
//! zeroized on drop (snow's own keep them in plain arrays), SHA-256 and the RNG from snow's
//! default resolver. Also refuses a non-contributory (all-zero) X25519 result, as Go's
//! `curve25519.X25519` does, so both sides of the wire fail alike.
//!
//! A handshake has four X25519 multiplications per side (its ephemeral public key and three
//! DHs). snow loads the static key with `Dh::set`, which would derive its public key — a fifth,
//! on every handshake — so the resolver of a handshake carries the local identity's static key
//! pair, computed once.

use snow::{
    params::{CipherChoice, DHChoice, HashChoice},
    resolvers::{BoxedCryptoResolver, CryptoResolver, DefaultResolver, FallbackResolver},
    types::{Cipher, Dh, Hash, Random},
};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{
    cipher::{CipherKey, TAG_LEN},
    identity::LocalIdentity,
};

/// The resolver of a handshake of `local`.
pub(crate) fn resolver(local: &LocalIdentity) -> BoxedCryptoResolver {
    let primary = Zeroizing25519 { static_key: StaticPair::of(local) };
    Box::new(FallbackResolver::new(Box::new(primary), Box::new(DefaultResolver)))
}

/// The local static key pair, so that loading it costs no multiplication.
#[derive(Clone)]
struct StaticPair {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl StaticPair {
    fn of(local: &LocalIdentity) -> Self {
        Self { secret: Zeroizing::new(*local.static_secret()), public: local.static_public() }
    }
}

struct Zeroizing25519 {
    static_key: StaticPair,
}

impl CryptoResolver for Zeroizing25519 {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        None
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        matches!(choice, DHChoice::Curve25519)
            .then(|| Box::new(X25519::new(self.static_key.clone())) as Box<dyn Dh>)
    }

    fn resolve_hash(&self, _choice: &HashChoice) -> Option<Box<dyn Hash>> {
        None
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        matches!(choice, CipherChoice::ChaChaPoly)
            .then(|| Box::new(ChaChaPoly(None)) as Box<dyn Cipher>)
    }
}

/// An X25519 keypair whose secret is zeroized on drop.
struct X25519 {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
    /// The local static key pair: `set` with its secret takes its public key as it is.
    known: StaticPair,
}

impl X25519 {
    fn new(known: StaticPair) -> Self {
        Self { secret: Zeroizing::new([0; 32]), public: [0; 32], known }
    }

    /// Takes `secret` and derives its public key (one multiplication).
    fn derive(&mut self, secret: &[u8; 32]) {
        self.secret.copy_from_slice(secret);
        self.public = PublicKey::from(&StaticSecret::from(*secret)).to_bytes();
    }
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        32
    }

    fn priv_len(&self) -> usize {
        32
    }

    /// snow sets the static key, and a fixed ephemeral in test vectors; fresh ephemerals come
    /// from [`Dh::generate`].
    fn set(&mut self, privkey: &[u8]) {
        let secret: &[u8; 32] = privkey.try_into().expect("snow passes 32-byte keys");
        if secret == &*self.known.secret {
            self.secret.copy_from_slice(secret);
            self.public = self.known.public;
        } else {
            self.derive(secret);
        }
    }

    fn generate(&mut self, rng: &mut dyn Random) {
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(secret.as_mut());
        self.derive(&secret);
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        self.secret.as_ref()
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        // snow passes its whole key buffer (MAXDHLEN bytes); the key is the first 32.
        let public: [u8; 32] = pubkey.get(..32).ok_or(snow::Error::Dh)?.try_into().expect("32");
        let shared = StaticSecret::from(*self.secret).diffie_hellman(&PublicKey::from(public));
        if !shared.was_contributory() {
            return Err(snow::Error::Dh);
        }
        out[..32].copy_from_slice(shared.as_bytes());
        Ok(())
    }
}

/// Noise's ChaChaPoly on [`CipherKey`] (zeroized on drop).
struct ChaChaPoly(Option<CipherKey>);

impl ChaChaPoly {
    fn key(&self) -> &CipherKey {
        self.0.as_ref().expect("snow sets a key before using a cipher")
    }
}

impl Cipher for ChaChaPoly {
    fn name(&self) -> &'static str {
        "ChaChaPoly"
    }

    fn set(&mut self, key: &[u8]) {
        let key: &[u8; 32] = key.try_into().expect("snow passes 32-byte keys");
        self.0 = Some(CipherKey::new(key));
    }

    fn encrypt(&self, nonce: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        let len = plaintext.len();
        out[..len].copy_from_slice(plaintext);
        let tag = self.key().seal(nonce, authtext, &mut out[..len]).expect("handshake sizes");
        out[len..len + TAG_LEN].copy_from_slice(&tag);
        len + TAG_LEN
    }

    fn decrypt(
        &self,
        nonce: u64,
        authtext: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, snow::Error> {
        let len = ciphertext.len().checked_sub(TAG_LEN).ok_or(snow::Error::Decrypt)?;
        let tag: &[u8; TAG_LEN] = ciphertext[len..].try_into().expect("TAG_LEN bytes");
        out[..len].copy_from_slice(&ciphertext[..len]);
        if !self.key().open(nonce, authtext, &mut out[..len], tag) {
            out[..len].fill(0);
            return Err(snow::Error::Decrypt);
        }
        Ok(len)
    }

    fn rekey(&mut self) {
        self.0 = Some(self.key().rekeyed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public_of(secret: &[u8; 32]) -> [u8; 32] {
        PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
    }

    #[test]
    fn the_static_key_loads_with_its_public_key_and_other_keys_derive_theirs() {
        let local = LocalIdentity::from_seed(&[3; 32], vec![1]);
        let mut dh = X25519::new(StaticPair::of(&local));
        dh.set(local.static_secret());
        assert_eq!(dh.pubkey(), public_of(local.static_secret()));
        assert_eq!(dh.privkey(), local.static_secret());
        let other = [5u8; 32];
        dh.set(&other);
        assert_eq!(dh.pubkey(), public_of(&other), "a fixed ephemeral is not the static key");
        assert_eq!(dh.privkey(), other);
        dh.generate(&mut *DefaultResolver.resolve_rng().expect("snow's RNG"));
        assert_eq!(dh.pubkey(), public_of(dh.privkey().try_into().unwrap()));
        assert_ne!(dh.privkey(), other);
    }
}
