//! AEComms over a TCP stream, framed as the Go comparison frames it: every handshake message and
//! every sealed frame is `u32le(length) ‖ bytes`, each message one write, each frame sealed and
//! opened in place in one reused buffer per direction. The reader reads through the same buffer
//! SecretConnection's does ([`crate::tcp::Buffered`]).

use std::{
    io::{self, Read, Write},
    net::TcpStream,
    time::Instant,
};

use ed25519_dalek::SigningKey;
use etrid_aecomms::{
    ed25519_peer_id, AeError, Binding, Handshake, LocalIdentity, Next, RecvHalf, RekeyPolicy,
    RemoteIdentity, SendHalf, FRAME_OVERHEAD, HEADER_LEN, MAX_HANDSHAKE_MESSAGE,
};

use crate::tcp::Buffered;

/// The largest frame a reader accepts: a 64 KiB message and its overhead.
const MAX_FRAME: usize = 64 * 1024 + FRAME_OVERHEAD;
/// The stream protocol name the sessions are bound to.
const PROTOCOL: &[u8] = b"/detr/bench/1";

/// One side's long-term keys (made once, as a node's are).
pub struct Party {
    identity: LocalIdentity,
    remote: RemoteIdentity,
}

impl Party {
    /// A fresh identity with a fresh static key.
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        let public = SigningKey::from_bytes(&seed).verifying_key();
        let identity = LocalIdentity::from_seed(&seed, ed25519_peer_id(&public));
        Self { identity, remote: RemoteIdentity::ed25519(public) }
    }
}

fn invalid(error: AeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

fn write_message(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(4 + message.len());
    out.extend_from_slice(&(message.len() as u32).to_le_bytes());
    out.extend_from_slice(message);
    stream.write_all(&out)
}

/// Reads `u32le(length) ‖ bytes` into `buf`, refusing a length above `max`.
fn read_message<'a>(
    reader: &mut impl Read,
    buf: &'a mut Vec<u8>,
    max: usize,
) -> io::Result<&'a mut [u8]> {
    let mut head = [0u8; 4];
    reader.read_exact(&mut head)?;
    let len = u32::from_le_bytes(head) as usize;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "message over the bound"));
    }
    buf.resize(len, 0);
    reader.read_exact(buf)?;
    Ok(buf)
}

/// The sending end of an established session.
pub struct Writer {
    stream: TcpStream,
    send: SendHalf,
    buf: Vec<u8>,
}

/// The receiving end of an established session.
pub struct Reader {
    stream: Buffered,
    recv: RecvHalf,
    buf: Vec<u8>,
}

/// Runs `local`'s side of the Noise XX handshake towards `remote` over `stream` and splits the
/// session into its writer and reader.
pub fn handshake(
    mut stream: TcpStream,
    local: &Party,
    remote: &Party,
) -> io::Result<(Writer, Reader)> {
    let binding =
        Binding { remote: remote.remote.clone(), protocol: PROTOCOL.to_vec(), genesis: [0; 32] };
    let (mut handshake, first) = Handshake::start(&local.identity, binding, RekeyPolicy::default());
    if let Some(first) = first {
        write_message(&mut stream, &first)?;
    }
    let mut reader = Buffered::new(stream.try_clone()?);
    let mut buf = Vec::with_capacity(MAX_HANDSHAKE_MESSAGE);
    let session = loop {
        let message = read_message(&mut reader, &mut buf, MAX_HANDSHAKE_MESSAGE)?;
        match handshake.read(message, &local.identity).map_err(invalid)? {
            Next::Wait { handshake: next, reply } => {
                write_message(&mut stream, &reply)?;
                handshake = next;
            }
            Next::Done { session, reply } => {
                if let Some(reply) = reply {
                    write_message(&mut stream, &reply)?;
                }
                break session;
            }
        }
    };
    Ok((
        Writer { stream, send: session.send, buf: Vec::new() },
        Reader { stream: reader, recv: session.recv, buf: Vec::new() },
    ))
}

impl Writer {
    /// Seals `message` as one frame in place and sends it in one write.
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(&((message.len() + FRAME_OVERHEAD) as u32).to_le_bytes());
        self.buf.extend_from_slice(&[0; HEADER_LEN]);
        self.buf.extend_from_slice(message);
        self.send.seal(&mut self.buf, 4, Instant::now()).map_err(invalid)?;
        self.stream.write_all(&self.buf)
    }
}

impl Reader {
    /// Reads the next frame and opens it in place: returns the plaintext's length.
    pub fn recv(&mut self) -> io::Result<usize> {
        let frame = read_message(&mut self.stream, &mut self.buf, MAX_FRAME)?;
        Ok(self.recv.open(frame).map_err(invalid)?.len())
    }
}
