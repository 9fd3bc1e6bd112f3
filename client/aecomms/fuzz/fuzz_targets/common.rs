//! Two parties of a fixed binding, shared by the targets.

use ed25519_dalek::SigningKey;
use etrid_aecomms::{Binding, Handshake, LocalIdentity, Next, RekeyPolicy, RemoteIdentity, Role, Session};

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

/// Parties 1 and 2 as (initiator, responder).
pub fn roles() -> ((LocalIdentity, Binding), (LocalIdentity, Binding)) {
    let (a, b) = (party(1, 2), party(2, 1));
    if a.1.role(&a.0) == Role::Initiator { (a, b) } else { (b, a) }
}

/// A session between parties 1 and 2: (initiator's, responder's).
pub fn sessions() -> (Session, Session) {
    let ((i, bi), (r, br)) = roles();
    let policy = RekeyPolicy { max_messages: 4, ..RekeyPolicy::default() };
    let (hi, m1) = Handshake::start(&i, bi, policy);
    let (hr, _) = Handshake::start(&r, br, policy);
    let Ok(Next::Wait { handshake: hr, reply: m2 }) = hr.read(&m1.unwrap(), &r) else { panic!() };
    let Ok(Next::Done { session: si, reply: Some(m3) }) = hi.read(&m2, &i) else { panic!() };
    let Ok(Next::Done { session: sr, .. }) = hr.read(&m3, &r) else { panic!() };
    (si, sr)
}
