//! Arbitrary bytes as a peer's handshake: decode, then offer to a fresh and to an established
//! channel. Nothing panics, and no forged handshake establishes a session.
#![no_main]

mod common;

use codec::Decode;
use etrid_aecomms::HandshakeMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = HandshakeMessage::decode(&mut &data[..]) else { return };
    let now = std::time::Instant::now();
    let mut fresh = common::channel(2, 1);
    assert!(fresh.on_handshake(&message, now).is_err(), "a forged handshake was accepted");
    assert!(!fresh.is_established());
});
