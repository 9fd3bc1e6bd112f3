//! The primitives `snow` runs the handshake with: X25519 and ChaChaPoly whose secrets are
//! zeroized on drop (snow's own keep them in plain arrays), SHA-256 and the RNG from snow's
//! default resolver. Also refuses a non-contributory (all-zero) X25519 result, as Go's
//! `curve25519.X25519` does, so both sides of the wire fail alike.

use snow::{
    params::{CipherChoice, DHChoice, HashChoice},
    resolvers::{BoxedCryptoResolver, CryptoResolver, DefaultResolver, FallbackResolver},
    types::{Cipher, Dh, Hash, Random},
};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::cipher::{CipherKey, TAG_LEN};

/// The resolver of every AEComms handshake.
pub(crate) fn resolver() -> BoxedCryptoResolver {
    Box::new(FallbackResolver::new(Box::new(Zeroizing25519), Box::new(DefaultResolver)))
}

struct Zeroizing25519;

impl CryptoResolver for Zeroizing25519 {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        None
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        matches!(choice, DHChoice::Curve25519).then(|| Box::new(X25519::default()) as Box<dyn Dh>)
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
#[derive(Default)]
struct X25519 {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
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

    fn set(&mut self, privkey: &[u8]) {
        self.secret.copy_from_slice(privkey);
        self.public = PublicKey::from(&StaticSecret::from(*self.secret)).to_bytes();
    }

    fn generate(&mut self, rng: &mut dyn Random) {
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(secret.as_mut());
        self.set(secret.as_ref());
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
