//! Several ways of doing one thing, timed in turns.

use std::time::{Duration, Instant};

/// Most calls of one way in one turn (a way that takes nanoseconds would otherwise count far).
const MAX_PER_TURN: usize = 1 << 24;

/// Mean nanoseconds per call of each of `ways` ways, which take `turns` turns (way 0, way 1,
/// ..., way 0, ...), each way about `turn` a turn. `run(way, n)` makes `n` calls of `way`.
///
/// A shared VM's cores drift in speed by up to 2x over seconds: timed in turns, the drift
/// lands on every way alike, where ways timed one after the other (as criterion does) each get
/// the speed of their own seconds. The calls per turn of each way are found by doubling from
/// one until a run lasts `turn`, which warms each way up.
pub fn in_turns(
    ways: usize,
    turns: usize,
    turn: Duration,
    mut run: impl FnMut(usize, usize),
) -> Vec<f64> {
    let mut timed = |way: usize, n: usize| {
        let start = Instant::now();
        run(way, n);
        start.elapsed()
    };
    let per_turn: Vec<usize> = (0..ways)
        .map(|way| {
            let mut n = 1;
            while timed(way, n) < turn && n < MAX_PER_TURN {
                n *= 2;
            }
            n
        })
        .collect();
    let mut total = vec![Duration::ZERO; ways];
    for _ in 0..turns {
        for (way, n) in per_turn.iter().enumerate() {
            total[way] += timed(way, *n);
        }
    }
    total.iter().zip(&per_turn).map(|(t, n)| t.as_nanos() as f64 / (turns * n) as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_gets_its_own_mean_per_call_and_the_ways_alternate() {
        let order = std::cell::RefCell::new(Vec::new());
        let means = in_turns(2, 3, Duration::from_millis(4), |way, n| {
            order.borrow_mut().push(way);
            // Way 1 costs about four times way 0 per call.
            std::thread::sleep(Duration::from_micros(if way == 0 { 100 } else { 400 }) * n as u32);
        });
        let ratio = means[1] / means[0];
        assert!((2.5..6.0).contains(&ratio), "way 1 / way 0 = {ratio}");
        assert!(means[0] >= 100_000.0, "at least the sleep: {}", means[0]);
        let order = order.into_inner();
        assert_eq!(order[order.len() - 6..], [0, 1, 0, 1, 0, 1], "the timed runs take turns");
    }
}
