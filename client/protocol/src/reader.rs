//! A cursor over a received frame that hands out byte fields as slices of it (no copy), checking
//! every length against its limit and against the bytes left.

use bytes::Bytes;

use crate::ProtocolError;

pub(crate) struct Reader {
    frame: Bytes,
    at: usize,
}

const SHORT: ProtocolError = ProtocolError::Malformed("frame cut short");

impl Reader {
    pub(crate) fn new(frame: Bytes, at: usize) -> Self {
        Self { frame, at }
    }

    fn take(&mut self, n: usize) -> Result<std::ops::Range<usize>, ProtocolError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.frame.len()).ok_or(SHORT)?;
        let range = self.at..end;
        self.at = end;
        Ok(range)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ProtocolError> {
        let r = self.take(1)?;
        Ok(self.frame[r.start])
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let r = self.take(N)?;
        Ok(self.frame[r].try_into().expect("N bytes"))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ProtocolError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ProtocolError> {
        self.array().map(u64::from_le_bytes)
    }

    /// A SCALE compact length, at most `max`.
    pub(crate) fn len(&mut self, max: usize) -> Result<usize, ProtocolError> {
        let mut input = &self.frame[self.at..];
        let before = input.len();
        let len = <codec::Compact<u32> as codec::Decode>::decode(&mut input)
            .map_err(|_| ProtocolError::Malformed("bad length prefix"))?
            .0 as usize;
        self.at += before - input.len();
        if len > max {
            return Err(ProtocolError::Malformed("length over the limit"));
        }
        Ok(len)
    }

    /// A SCALE `Vec<u8>` of at most `max` bytes, as a slice of the frame.
    pub(crate) fn bytes(&mut self, max: usize) -> Result<Bytes, ProtocolError> {
        let len = self.len(max)?;
        let r = self.take(len)?;
        Ok(self.frame.slice(r))
    }

    /// A SCALE `Option<Vec<u8>>` of at most `max` bytes.
    pub(crate) fn option_bytes(&mut self, max: usize) -> Result<Option<Bytes>, ProtocolError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.bytes(max).map(Some),
            _ => Err(ProtocolError::Malformed("bad option tag")),
        }
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(self) -> Result<(), ProtocolError> {
        match self.frame.len() - self.at {
            0 => Ok(()),
            n => Err(ProtocolError::TrailingBytes(n)),
        }
    }
}

/// Appends a SCALE `Vec<u8>`.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    codec::Encode::encode_to(&codec::Compact(bytes.len() as u32), out);
    out.extend_from_slice(bytes);
}

/// Bytes of a SCALE compact length prefix of `n`.
pub(crate) fn len_prefix(n: usize) -> usize {
    <codec::Compact<u32> as codec::CompactLen<u32>>::compact_len(&(n as u32))
}
