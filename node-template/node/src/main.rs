//! `flarechain-node`: a Substrate node (Aura + GRANDPA) carrying the DETR P2P networking plugin.
#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
    command::run()
}
