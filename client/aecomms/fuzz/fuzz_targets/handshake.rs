//! Arbitrary bytes as each handshake message a peer sends: nothing panics, and no forged
//! message completes a handshake.
#![no_main]

mod common;

use etrid_aecomms::{Handshake, Next, RekeyPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ((i, bi), (r, br)) = common::roles();
    // As message 1 to a responder, then as message 3.
    let (hr, _) = Handshake::start(r, br.clone(), RekeyPolicy::default());
    if let Ok(Next::Wait { handshake, .. }) = hr.read(data, r) {
        assert!(handshake.read(data, r).is_err(), "a forged message 3 was accepted");
    }
    // As message 2 to an initiator.
    let (hi, _) = Handshake::start(i, bi.clone(), RekeyPolicy::default());
    assert!(hi.read(data, i).is_err(), "a forged message 2 was accepted");
});
