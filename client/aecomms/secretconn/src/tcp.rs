//! Connected TCP pairs on 127.0.0.1 and running both ends of one exchange at once.

use std::{
    io,
    net::{TcpListener, TcpStream},
    thread,
    time::Duration,
};

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
