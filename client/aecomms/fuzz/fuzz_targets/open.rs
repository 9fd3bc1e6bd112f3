//! Arbitrary frames offered to an established session: never a panic, never accepted; the
//! session still opens the peer's real frames afterwards (across rekeys).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = std::time::Instant::now();
    let (mut a, mut b) = common::sessions();
    let mut forged = data.to_vec();
    assert!(b.recv.open(&mut forged).is_err(), "a forged frame was accepted");
    for _ in 0..6 {
        let mut frame = a.seal_to_vec(data, now).unwrap();
        let range = b.recv.open(&mut frame).unwrap();
        assert_eq!(&frame[range], data);
    }
});
