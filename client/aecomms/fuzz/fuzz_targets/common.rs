//! Two parties of a fixed binding, shared by the targets.
// Each target uses part of this module.
#![allow(dead_code)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use etrid_aecomms::{Binding, LocalIdentity, RekeyPolicy, RemoteIdentity, Role, Session};

fn peer_id(seed: u8) -> Vec<u8> {
    let public = SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes();
    [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &public[..]].concat()
}

/// Party `me` and its binding towards party `them`.
pub fn party(me: u8, them: u8) -> (LocalIdentity, Binding) {
    let remote = RemoteIdentity { peer_id: peer_id(them), public: SigningKey::from_bytes(&[them; 32]).verifying_key() };
    let binding = Binding { remote, protocol: b"/fuzz/detr/block/1".to_vec(), genesis: [0; 32] };
    (LocalIdentity::from_seed(&[me; 32], peer_id(me)), binding)
}

type Party = (LocalIdentity, Binding);

/// Parties 1 and 2 as (initiator, responder); made once (they are immutable).
pub fn roles() -> &'static (Party, Party) {
    static ROLES: OnceLock<(Party, Party)> = OnceLock::new();
    ROLES.get_or_init(|| {
        let (a, b) = (party(1, 2), party(2, 1));
        if a.1.role(&a.0) == Role::Initiator { (a, b) } else { (b, a) }
    })
}

/// A session pair from fixed keys, rekeying every 4 frames: (sender's, receiver's). The
/// handshake that makes real sessions is the `handshake` target's.
pub fn sessions() -> (Session, Session) {
    let policy = RekeyPolicy { max_messages: 4, ..RekeyPolicy::default() };
    let (k1, k2) = ([1; 32], [2; 32]);
    (Session::for_fuzzing(&k1, &k2, policy), Session::for_fuzzing(&k2, &k1, policy))
}
