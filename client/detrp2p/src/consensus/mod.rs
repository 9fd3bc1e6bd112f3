//! GRANDPA over detr: the notification service its voter is given, the network its gossip
//! engine reserves peers through, and the queue of events between the plugin and GRANDPA.

pub(crate) mod events;
mod network;
mod service;

pub use network::ConsensusNetwork;
pub use service::{ConsensusService, GRANDPA_ENGINE_ID};
