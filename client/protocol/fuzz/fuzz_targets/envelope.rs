//! Any bytes given to the envelope decoder: no panic, and what decodes re-encodes to the same bytes.
#![no_main]

use etrid_protocol::{Envelope, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::deserialize(data) {
        assert_eq!(envelope.serialize().unwrap(), data);
    }
});
