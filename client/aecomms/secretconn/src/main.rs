//! AEComms (`etrid-aecomms`) beside CometBFT's SecretConnection (`tendermint-p2p`), the nearest
//! design (X25519, ChaCha20-Poly1305, an Ed25519-authenticated handshake), measured the same way
//! in the same run, as `go-core/bench/secretconn` does in Go: the same TCP loopback connections
//! (Nagle off on both), the same buffered reads (65 KiB, as in Go), the same pipelining (a writer
//! and a reader thread), the same message sizes; established-session throughput at 1, 16 and
//! 64 KiB, and whole handshakes per second (both sides, each on a fresh TCP pair, long-term keys
//! made once). Each figure is measured
//! [`ROUNDS`] times, the two designs alternately, and the median is printed against the goal of
//! issue 16. Run by `make bench`.

mod aecomms;
mod secret;
mod tcp;

use std::{
    io::{self, Read, Write},
    time::{Duration, Instant},
};

use tendermint_p2p::secret_connection::{Receiver, Sender};

/// Rounds of each figure; the median is reported.
const ROUNDS: usize = 5;
/// A measurement doubles its count until it runs at least this long.
const MEASURE_FOR: Duration = Duration::from_secs(1);

/// An established connection: `run(n)` sends `n` messages one way, pipelined, and receives them.
trait Pipe {
    fn run(&mut self, n: u64) -> io::Result<()>;
}

struct AecommsPipe {
    writer: aecomms::Writer,
    reader: aecomms::Reader,
    message: Vec<u8>,
}

impl AecommsPipe {
    fn new(size: usize) -> io::Result<Self> {
        let (x, y) = (aecomms::Party::generate(), aecomms::Party::generate());
        let (a, b) = tcp::pair()?;
        let ((writer, _), (_, reader)) =
            tcp::both(|| aecomms::handshake(a, &x, &y), || aecomms::handshake(b, &y, &x))?;
        Ok(Self { writer, reader, message: vec![7; size] })
    }
}

impl Pipe for AecommsPipe {
    fn run(&mut self, n: u64) -> io::Result<()> {
        let (writer, reader, message) = (&mut self.writer, &mut self.reader, &self.message);
        tcp::both(
            || (0..n).try_for_each(|_| writer.send(message)),
            || {
                (0..n).try_for_each(|_| match reader.recv()? {
                    len if len == message.len() => Ok(()),
                    _ => Err(io::Error::new(io::ErrorKind::InvalidData, "wrong message size")),
                })
            },
        )
        .map(drop)
    }
}

struct SecretPipe {
    sender: Sender<tcp::Buffered>,
    receiver: Receiver<tcp::Buffered>,
    message: Vec<u8>,
    buf: Vec<u8>,
}

impl SecretPipe {
    fn new(size: usize) -> io::Result<Self> {
        let (x, y) = (secret::generate(), secret::generate());
        let (a, b) = tcp::pair()?;
        let ((sender, _), (_, receiver)) =
            tcp::both(|| secret::handshake(a, &x), || secret::handshake(b, &y))?;
        Ok(Self { sender, receiver, message: vec![7; size], buf: vec![0; size] })
    }
}

impl Pipe for SecretPipe {
    fn run(&mut self, n: u64) -> io::Result<()> {
        let (sender, receiver, message, buf) =
            (&mut self.sender, &mut self.receiver, &self.message, &mut self.buf);
        tcp::both(
            || (0..n).try_for_each(|_| sender.write_all(message)),
            || (0..n).try_for_each(|_| receiver.read_exact(buf)),
        )
        .map(drop)
    }
}

/// `n` whole AEComms handshakes, both sides, each on a fresh TCP pair.
fn aecomms_handshakes(x: &aecomms::Party, y: &aecomms::Party, n: u64) -> io::Result<()> {
    (0..n).try_for_each(|_| {
        let (a, b) = tcp::pair()?;
        tcp::both(|| aecomms::handshake(a, x, y), || aecomms::handshake(b, y, x)).map(drop)
    })
}

/// `n` whole SecretConnection handshakes, both sides, each on a fresh TCP pair.
fn secret_handshakes(
    x: &ed25519_consensus::SigningKey,
    y: &ed25519_consensus::SigningKey,
    n: u64,
) -> io::Result<()> {
    (0..n).try_for_each(|_| {
        let (a, b) = tcp::pair()?;
        tcp::both(|| secret::handshake(a, x), || secret::handshake(b, y)).map(drop)
    })
}

/// Operations per second of `run`, with a count doubled until it runs [`MEASURE_FOR`].
fn rate(mut run: impl FnMut(u64) -> io::Result<()>) -> io::Result<f64> {
    let mut n = 1;
    loop {
        let start = Instant::now();
        run(n)?;
        let took = start.elapsed();
        if took >= MEASURE_FOR {
            return Ok(n as f64 / took.as_secs_f64());
        }
        n *= 2;
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Measures AEComms and SecretConnection alternately, [`ROUNDS`] times: their median rates.
fn alternately(
    mut ours: impl FnMut() -> io::Result<f64>,
    mut theirs: impl FnMut() -> io::Result<f64>,
) -> io::Result<(f64, f64)> {
    let (mut a, mut s) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(ours()?);
        s.push(theirs()?);
    }
    Ok((median(a), median(s)))
}

fn goal(want: Option<f64>, got: f64) -> String {
    match want {
        None => "-".into(),
        Some(want) if got >= want => format!(">= {want:.1}x met"),
        Some(want) => format!(">= {want:.1}x MISSED"),
    }
}

fn main() -> io::Result<()> {
    println!(
        "== AEComms vs SecretConnection (tendermint-p2p), Rust, same run, median of {ROUNDS} =="
    );
    println!(
        "{:<11} {:>14} {:>14} {:>8} {:>14}",
        "figure", "AEComms", "SecretConn", "ratio", "goal"
    );
    for (name, size, want) in
        [("1 KiB", 1 << 10, Some(1.5)), ("16 KiB", 16 << 10, None), ("64 KiB", 64 << 10, Some(3.0))]
    {
        let mb = |rate: f64| rate * size as f64 / 1e6;
        let (a, s) = alternately(
            || {
                let mut pipe = AecommsPipe::new(size)?;
                rate(|n| pipe.run(n)).map(mb)
            },
            || {
                let mut pipe = SecretPipe::new(size)?;
                rate(|n| pipe.run(n)).map(mb)
            },
        )?;
        println!(
            "{name:<11} {a:>9.0} MB/s {s:>9.0} MB/s {:>7.2}x {:>14}",
            a / s,
            goal(want, a / s)
        );
    }
    let (x, y) = (aecomms::Party::generate(), aecomms::Party::generate());
    let (p, q) = (secret::generate(), secret::generate());
    let (a, s) = alternately(
        || rate(|n| aecomms_handshakes(&x, &y, n)),
        || rate(|n| secret_handshakes(&p, &q, n)),
    )?;
    println!(
        "{:<11} {a:>11.0} /s {s:>11.0} /s {:>7.2}x {:>14}",
        "handshakes",
        a / s,
        goal(Some(1.5), a / s)
    );
    Ok(())
}
