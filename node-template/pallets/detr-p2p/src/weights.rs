//! Weights of `pallet-detr-p2p`: a documented bound, not a benchmark.
//!
//! Each call is `ensure_root`, a validation of fixed cost, one storage write and one event.
//! `set_config` writes at most `NetworkConfig::max_encoded_len()` (52) bytes; `set_bridge_chains`
//! sorts and writes at most 64 chain ids (260 bytes). The bound charges one write plus
//! 10 µs of computation (generous: sorting 64 integers and checking 12 fields takes well under
//! 1 µs natively) and the written bytes as proof size.

use frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions of the calls.
pub trait WeightInfo {
    /// `set_config`.
    fn set_config() -> Weight;
    /// `set_bridge_chains` with `n` chains.
    fn set_bridge_chains(n: u32) -> Weight;
}

/// Computation allowance of each call, picoseconds.
const COMPUTE: u64 = 10_000_000;

impl WeightInfo for () {
    fn set_config() -> Weight {
        Weight::from_parts(COMPUTE, 52).saturating_add(RocksDbWeight::get().writes(1))
    }

    fn set_bridge_chains(n: u32) -> Weight {
        Weight::from_parts(COMPUTE, 4 + 4 * n as u64).saturating_add(RocksDbWeight::get().writes(1))
    }
}
