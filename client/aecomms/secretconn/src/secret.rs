//! CometBFT's SecretConnection from the `tendermint-p2p` crate, used as its users use it: over a
//! TCP stream (read through the same buffer AEComms reads through), split into its sending and
//! receiving halves.

use std::{io, net::TcpStream};

use ed25519_consensus::SigningKey;
use tendermint_p2p::secret_connection::{Receiver, SecretConnection, Sender, Version};

use crate::tcp::Buffered;

/// The protocol version of current CometBFT (the transcript-hash handshake).
const VERSION: Version = Version::V0_34;

/// A fresh long-term key.
pub fn generate() -> SigningKey {
    SigningKey::from(rand::random::<[u8; 32]>())
}

/// Runs one side of the handshake over `stream` and splits the connection.
pub fn handshake(
    stream: TcpStream,
    key: &SigningKey,
) -> io::Result<(Sender<Buffered>, Receiver<Buffered>)> {
    let stream = Buffered::new(stream);
    let connection = SecretConnection::new(stream, key.clone(), VERSION).map_err(other)?;
    connection.split().map_err(other)
}

fn other(error: tendermint_p2p::error::Error) -> io::Error {
    io::Error::other(error.to_string())
}
