//! Decode limits. Every length read from the wire is checked against these before any
//! allocation, and against the bytes actually left in the frame. Each protocol's frame limit is
//! sized to what it carries.

/// Bytes before a message's body: version and kind.
pub const HEADER_LEN: usize = 2;
/// Largest GRANDPA (or other engine) payload: GRANDPA's own notification limit.
pub const MAX_CONSENSUS_PAYLOAD: usize = 1024 * 1024;
/// Largest block: FlareChain's runtime `BlockLength` (5 MiB).
pub const MAX_BLOCK_SIZE: usize = 5 * 1024 * 1024;
/// Largest justifications attached to a pushed block.
pub const MAX_JUSTIFICATIONS_SIZE: usize = 1024 * 1024;
/// Largest single extrinsic: it must fit in a block.
pub const MAX_EXTRINSIC_SIZE: usize = MAX_BLOCK_SIZE;
/// Most extrinsics in one transactions message.
pub const MAX_EXTRINSICS: usize = 4096;
/// Largest transactions message body (a batch, or one extrinsic as large as a block).
pub const MAX_TRANSACTIONS_SIZE: usize = MAX_EXTRINSIC_SIZE + 1024;
/// Largest bridge or custom payload.
pub const MAX_PAYLOAD_SIZE: usize = 1024 * 1024;
/// Most addresses in an addresses message.
pub const MAX_ADDRESSES: usize = 8;
/// Longest address in an addresses message.
pub const MAX_ADDRESS_LEN: usize = 256;
/// Default hop limit of relayed (bridge) messages.
pub const DEFAULT_TTL: u8 = 4;

/// Largest frame of the block protocol (a pushed block with its justifications).
pub const MAX_BLOCK_FRAME: usize = HEADER_LEN + 16 + MAX_BLOCK_SIZE + 8 + MAX_JUSTIFICATIONS_SIZE;
/// Largest frame of the transactions protocol.
pub const MAX_TX_FRAME: usize = HEADER_LEN + MAX_TRANSACTIONS_SIZE;
/// Largest frame of the consensus protocol.
pub const MAX_CONSENSUS_FRAME: usize = HEADER_LEN + 4 + 5 + MAX_CONSENSUS_PAYLOAD;
/// Largest frame of the bridge protocol (bridge and custom messages).
pub const MAX_BRIDGE_FRAME: usize = HEADER_LEN + 4 + 4 + 8 + 1 + 5 + MAX_PAYLOAD_SIZE;
