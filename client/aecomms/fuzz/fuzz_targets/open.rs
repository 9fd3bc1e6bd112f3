//! Arbitrary frames offered to an established session: never a panic, never accepted.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = std::time::Instant::now();
    let (mut a, mut b) = (common::channel(1, 2), common::channel(2, 1));
    let hello = a.start_handshake();
    let reply = b.on_handshake(&hello, now).unwrap().unwrap();
    a.on_handshake(&reply, now).unwrap();
    assert!(b.open(data).is_err(), "a forged frame was accepted");
    let frame = a.seal(data).unwrap();
    assert_eq!(b.open(&frame).unwrap(), data);
});
