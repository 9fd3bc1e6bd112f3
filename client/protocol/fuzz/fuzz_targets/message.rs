//! Any bytes given to the message decoder: no panic, and what decodes re-encodes to the same
//! bytes (the encoding is canonical).
#![no_main]

use etrid_protocol::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(bytes::Bytes::copy_from_slice(data)) {
        assert_eq!(message.encode().unwrap().as_ref(), data);
    }
});
