//! Connected TCP pairs on 127.0.0.1, the buffered reading both designs get, and running both
//! ends of one exchange at once.

use std::{
    io::{self, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    thread,
    time::Duration,
};

use tendermint_std_ext::TryClone;

/// How long a read may wait: a side that failed leaves the other one an error, not a hang.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected pair of TCP sockets on 127.0.0.1, with Nagle off on both (as Go's `net` sets by
/// default, so that both comparisons send each write at once) and reads bounded by
/// [`READ_TIMEOUT`].
pub fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let a = TcpStream::connect(listener.local_addr()?)?;
    let (b, _) = listener.accept()?;
    for stream in [&a, &b] {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
    }
    Ok((a, b))
}

/// Bytes each reader buffers: as the Go comparison's readers (cometbft's SecretConnection reads
/// through 65 KiB; its AEComms reader matches it), room for the largest frame.
pub const READ_BUFFER: usize = 65 * 1024;

/// A TCP stream read through a [`READ_BUFFER`]-byte buffer and written directly: what each
/// design reads from, so that neither pays a system call per frame header the other does not.
pub struct Buffered {
    reader: BufReader<TcpStream>,
}

impl Buffered {
    /// `stream`, with an empty read buffer.
    pub fn new(stream: TcpStream) -> Self {
        Self { reader: BufReader::with_capacity(READ_BUFFER, stream) }
    }
}

impl Read for Buffered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for Buffered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.reader.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.reader.get_mut().flush()
    }
}

impl TryClone for Buffered {
    type Error = io::Error;

    /// A second handle on the stream, with an empty buffer of its own (SecretConnection gives
    /// the clone to its sending half, which never reads).
    fn try_clone(&self) -> io::Result<Self> {
        Ok(Self::new(self.reader.get_ref().try_clone()?))
    }
}

/// Runs `f` here and `g` on a second thread, both at once, and returns both results or the
/// first error.
pub fn both<A, B, E>(
    f: impl FnOnce() -> Result<A, E>,
    g: impl FnOnce() -> Result<B, E> + Send,
) -> Result<(A, B), E>
where
    B: Send,
    E: Send,
{
    thread::scope(|scope| {
        let other = scope.spawn(g);
        let a = f();
        let b = other.join().expect("the second side of the exchange panicked");
        Ok((a?, b?))
    })
}
