//! Two parties of a fixed binding, shared by the targets.
// Each target uses part of this module.
#![allow(dead_code)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use etrid_aecomms::{
    ed25519_peer_id, Binding, LocalIdentity, RekeyPolicy, RemoteIdentity, Role, Session,
};

fn public(seed: u8) -> ed25519_dalek::VerifyingKey {
    SigningKey::from_bytes(&[seed; 32]).verifying_key()
}

/// Party `me` and its binding towards party `them`.
pub fn party(me: u8, them: u8) -> (LocalIdentity, Binding) {
    let remote = RemoteIdentity::ed25519(public(them));
    let binding = Binding { remote, protocol: b"/fuzz/detr/block/1".to_vec(), genesis: [0; 32] };
    (LocalIdentity::from_seed(&[me; 32], ed25519_peer_id(&public(me))), binding)
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
