//! Ports for the nodes and daemons a test starts, all on 127.0.0.1.
//!
//! A port is chosen before the process that binds it has started, so another process may take
//! it in between. When the end-to-end tests run in lanes side by side (`make test-e2e`), each
//! lane's processes would otherwise draw from the OS's ephemeral range, which the other lanes,
//! zombienet and every outbound connection on the machine draw from too. So `make test-e2e`
//! gives each lane a first port in [`LANE_PORTS_VAR`]: that lane takes its ports from the
//! [`PORTS_PER_LANE`] ports from there, which lie below the ephemeral range (32768–60999 on
//! Linux), where neither the OS nor another lane hands them out. Without the variable (a test run
//! by hand), the OS picks a free port.

use std::{
    net::{TcpListener, UdpSocket},
    sync::atomic::{AtomicU16, Ordering},
};

/// The environment variable naming this process's first port (set per lane by the Makefile).
pub const LANE_PORTS_VAR: &str = "DETR_TEST_PORTS";
/// Ports in one lane's range. A lane's test binaries run one after another, each a new process
/// that starts again at the range's first port: the nodes of the one before are killed by then,
/// and a port still bound is skipped. The busiest binary (`carrier.rs`) starts 14 nodes at 3
/// ports each, far fewer than the range holds.
pub const PORTS_PER_LANE: u16 = 2000;

/// The next port of this process's range to try, as an offset from its first port.
static NEXT: AtomicU16 = AtomicU16::new(0);

/// A port free on 127.0.0.1 for TCP and UDP: from this lane's range when [`LANE_PORTS_VAR`] is
/// set, else one the OS picks.
pub fn free_port() -> u16 {
    match std::env::var(LANE_PORTS_VAR) {
        Ok(first) => {
            let valid = 1024..=u16::MAX - PORTS_PER_LANE;
            match first.parse() {
                Ok(first) if valid.contains(&first) => port_in_range(first, &NEXT),
                _ => panic!("{LANE_PORTS_VAR}={first:?}: the first port must be in {valid:?}"),
            }
        }
        Err(_) => TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("the OS gives a free port on 127.0.0.1"),
    }
}

/// The next port from `first` on (after the one `next` last gave, wrapping within the range)
/// that nothing has bound for TCP or UDP on 127.0.0.1.
fn port_in_range(first: u16, next: &AtomicU16) -> u16 {
    for _ in 0..PORTS_PER_LANE {
        let port = first + next.fetch_add(1, Ordering::Relaxed) % PORTS_PER_LANE;
        let free = TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
    panic!("no free port in {first}..{}", first + PORTS_PER_LANE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range no lane of the Makefile uses.
    const FIRST: u16 = 29_000;

    #[test]
    fn ports_come_from_the_range_in_order_skipping_bound_ones_and_wrap() {
        let next = AtomicU16::new(0);
        let busy = TcpListener::bind(("127.0.0.1", FIRST + 1)).expect("port 29001 is free");
        let udp_busy = UdpSocket::bind(("127.0.0.1", FIRST + 2)).expect("port 29002 is free");
        assert_eq!(port_in_range(FIRST, &next), FIRST);
        assert_eq!(port_in_range(FIRST, &next), FIRST + 3, "29001 (TCP) and 29002 (UDP) are bound");
        drop((busy, udp_busy));
        next.store(PORTS_PER_LANE - 1, Ordering::Relaxed);
        assert_eq!(port_in_range(FIRST, &next), FIRST + PORTS_PER_LANE - 1);
        assert_eq!(port_in_range(FIRST, &next), FIRST, "the range wraps");
    }
}
