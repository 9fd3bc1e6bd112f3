//! AEComms sessions made in memory, for the benches that measure the layers without a network:
//! node identities from a number and a handshaken session pair on one detr protocol.

use detrp2p::DetrProtocol;
use ed25519_dalek::{SigningKey, VerifyingKey};
use etrid_aecomms::{
    ed25519_peer_id, handshake::in_memory, Binding, LocalIdentity, RekeyPolicy, RemoteIdentity,
    Session,
};

/// The identity of node `n` (a fixed seed per `n`), with the libp2p PeerId of its Ed25519 key.
pub fn identity(n: usize) -> LocalIdentity {
    let mut seed = [7; 32];
    seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
    LocalIdentity::from_seed(&seed, ed25519_peer_id(&SigningKey::from_bytes(&seed).verifying_key()))
}

/// A binding towards `remote` on `protocol` of the chain with `genesis`.
fn binding(remote: &LocalIdentity, protocol: DetrProtocol, genesis: [u8; 32]) -> Binding {
    let public = VerifyingKey::from_bytes(&remote.public()).expect("a valid key");
    Binding {
        remote: RemoteIdentity::ed25519(public),
        protocol: protocol.name(&genesis).as_bytes().to_vec(),
        genesis,
    }
}

/// `us`'s and `them`'s sessions with each other on `protocol`, after a full handshake.
pub fn session_pair(
    us: &LocalIdentity,
    them: &LocalIdentity,
    protocol: DetrProtocol,
    genesis: [u8; 32],
    policy: RekeyPolicy,
) -> (Session, Session) {
    let ours = (us, binding(them, protocol, genesis));
    in_memory(ours, (them, binding(us, protocol, genesis)), policy).expect("a handshake")
}
