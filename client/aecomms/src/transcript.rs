//! The signed statement and the transcript hash (see the crate docs for the exact layout).

use sha2::{Digest, Sha256};

const STATEMENT_DOMAIN: &[u8] = b"detr-aecomms/v1/handshake";
const TRANSCRIPT_DOMAIN: &[u8] = b"detr-aecomms/v1/transcript";

/// Appends `u32le(len(bytes)) ‖ bytes`.
fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// One side's contribution to a handshake.
pub(crate) struct Side<'a> {
    pub peer_id: &'a [u8],
    pub ephemeral: &'a [u8; 32],
    pub identity: &'a [u8; 32],
}

/// What both sides agree on besides their own keys.
pub(crate) struct Context<'a> {
    pub protocol: &'a [u8],
    pub genesis: &'a [u8; 32],
    pub generation: u64,
}

/// The bytes `sender` signs for `receiver_peer_id`.
pub(crate) fn statement(ctx: &Context, sender: &Side, receiver_peer_id: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(STATEMENT_DOMAIN);
    push_lp(&mut out, sender.peer_id);
    push_lp(&mut out, receiver_peer_id);
    push_lp(&mut out, ctx.protocol);
    out.extend_from_slice(ctx.genesis);
    out.extend_from_slice(&ctx.generation.to_le_bytes());
    out.extend_from_slice(sender.ephemeral);
    out.extend_from_slice(sender.identity);
    out
}

/// The transcript hash over both sides, `a` having the smaller PeerId.
pub(crate) fn transcript_hash(ctx: &Context, a: &Side, b: &Side) -> [u8; 32] {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(TRANSCRIPT_DOMAIN);
    push_lp(&mut out, a.peer_id);
    push_lp(&mut out, b.peer_id);
    push_lp(&mut out, ctx.protocol);
    out.extend_from_slice(ctx.genesis);
    out.extend_from_slice(&ctx.generation.to_le_bytes());
    out.extend_from_slice(a.ephemeral);
    out.extend_from_slice(b.ephemeral);
    out.extend_from_slice(a.identity);
    out.extend_from_slice(b.identity);
    Sha256::digest(&out).into()
}
