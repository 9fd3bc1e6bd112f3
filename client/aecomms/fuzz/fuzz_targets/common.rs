//! Two parties of a fixed binding, shared by the targets.

use ed25519_dalek::SigningKey;
use etrid_aecomms::{Binding, Channel, LocalIdentity, RekeyPolicy, RemoteIdentity};

fn peer_id(seed: u8) -> Vec<u8> {
    let public = SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes();
    [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &public[..]].concat()
}

/// Party `me`'s channel to party `them`.
pub fn channel(me: u8, them: u8) -> Channel {
    let remote = RemoteIdentity { peer_id: peer_id(them), public: SigningKey::from_bytes(&[them; 32]).verifying_key() };
    let binding = Binding { remote, protocol: b"/fuzz/detr/block/1".to_vec(), genesis: [0; 32] };
    Channel::new(LocalIdentity::from_seed(&[me; 32], peer_id(me)), binding, RekeyPolicy::default())
}
