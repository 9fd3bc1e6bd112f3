//! Any bytes given to the message decoder: no panic, and a decoded message round trips.
#![no_main]

use etrid_protocol::{Message, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::deserialize(data) {
        assert_eq!(Message::deserialize(&message.serialize().unwrap()).unwrap(), message);
    }
});
