//! `flarechain-node`: a Substrate node (Aura + GRANDPA) carrying the DETR P2P networking plugin.
#![warn(missing_docs)]
// The node returns sc-cli's and sc-service's errors, as their `Runner` closures require; those
// types are upstream's (176 bytes), not ours to box.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
    command::run()
}
