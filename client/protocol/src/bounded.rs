//! Length-checked decoding of byte vectors: the length prefix is checked against a maximum and
//! against the remaining input before anything is allocated.

use codec::{Compact, Decode, Input};

/// Reads a `Compact<u32>` length and checks it against `max` and the remaining input.
fn read_len<I: Input>(input: &mut I, max: usize, min_item: usize) -> Result<usize, codec::Error> {
    let len = Compact::<u32>::decode(input)?.0 as usize;
    if len > max {
        return Err("length prefix over the limit".into());
    }
    if let Some(remaining) = input.remaining_len()? {
        if len.saturating_mul(min_item) > remaining {
            return Err("length prefix longer than the input".into());
        }
    }
    Ok(len)
}

/// Decodes a SCALE `Vec<u8>` of at most `max` bytes.
pub(crate) fn decode_bytes<I: Input>(input: &mut I, max: usize) -> Result<Vec<u8>, codec::Error> {
    let len = read_len(input, max, 1)?;
    let mut bytes = vec![0u8; len];
    input.read(&mut bytes)?;
    Ok(bytes)
}

/// Decodes a SCALE `Vec<Vec<u8>>` of at most `max_items` items of at most `max_item` bytes.
pub(crate) fn decode_byte_vecs<I: Input>(
    input: &mut I,
    max_items: usize,
    max_item: usize,
) -> Result<Vec<Vec<u8>>, codec::Error> {
    // Every item takes at least one byte (its own length prefix).
    let len = read_len(input, max_items, 1)?;
    let mut items = Vec::with_capacity(len);
    for _ in 0..len {
        items.push(decode_bytes(input, max_item)?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Encode;

    #[test]
    fn rejects_length_over_limit() {
        let encoded = vec![7u8; 10].encode();
        assert!(decode_bytes(&mut &encoded[..], 9).is_err());
        assert_eq!(decode_bytes(&mut &encoded[..], 10).unwrap(), vec![7u8; 10]);
    }

    #[test]
    fn rejects_length_longer_than_input() {
        // Claims 1000 bytes, carries 3.
        let mut encoded = Compact(1000u32).encode();
        encoded.extend_from_slice(&[1, 2, 3]);
        assert!(decode_bytes(&mut &encoded[..], usize::MAX).is_err());
    }

    #[test]
    fn huge_item_count_is_refused_before_allocation() {
        let encoded = Compact(u32::MAX).encode();
        assert!(decode_byte_vecs(&mut &encoded[..], usize::MAX, 10).is_err());
    }
}
