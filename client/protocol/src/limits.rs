//! Decode limits. Every length prefix read from the wire is checked against these before any
//! allocation, and against the bytes actually left in the input.

/// Largest frame (one encoded envelope) accepted or produced.
pub const MAX_FRAME_SIZE: usize = 4 * 1024 * 1024;
/// Largest opaque payload (consensus, bridge, custom) inside a message.
pub const MAX_PAYLOAD_SIZE: usize = 1024 * 1024;
/// Most extrinsics in one transaction message.
pub const MAX_EXTRINSICS: usize = 1024;
/// Largest single encoded extrinsic.
pub const MAX_EXTRINSIC_SIZE: usize = 1024 * 1024;
/// Largest protocol name or peer id bound into a handshake.
pub const MAX_IDENTIFIER_SIZE: usize = 256;
/// Nesting depth allowed to the SCALE decoder.
pub const MAX_DEPTH: u32 = 8;
/// Default hop limit of relayed (bridge) messages.
pub const DEFAULT_TTL: u8 = 4;
