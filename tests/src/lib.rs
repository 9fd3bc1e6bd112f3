//! Harness for end-to-end tests: starts real `flarechain-node` processes on 127.0.0.1, talks to
//! them over JSON-RPC, and stops them when dropped. Every wait is bounded; a failure panics with
//! the tail of the node's log.

pub mod daemon;
pub mod detr;
pub mod imports;
pub mod network;
pub mod node;
pub mod ports;
pub mod rogue;
pub mod rpc;
pub mod script;

pub use daemon::Daemon;
pub use network::LocalNetwork;
pub use node::{NodeConfig, TestNode};
pub use rogue::run_rogue;
pub use script::run_script;
