//! Block import times read from node logs: when each node imported each block, and the delays
//! from a block's author to the others (block propagation benchmark).

use std::collections::HashMap;

/// Milliseconds since midnight of a log line (`2026-11-26 04:43:34.123  INFO …`), if it has one.
pub fn timestamp_ms(line: &str) -> Option<i64> {
    let time = line.split_whitespace().nth(1)?;
    let (hms, ms) = time.split_once('.')?;
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(((h * 60 + m) * 60 + s) * 1000 + ms.parse::<i64>().ok()?)
}

/// `(number, hash)` of an informant import line (`… Imported #12 (0xab…cd → 0xef…01)`).
pub fn imported(line: &str) -> Option<(u64, String)> {
    let rest = &line[line.find("Imported #")? + "Imported #".len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let hash = rest.split('→').nth(1)?.trim().trim_end_matches(')');
    let hash: String = hash.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '…').collect();
    Some((digits.parse().ok()?, hash))
}

/// `line` without ANSI colour sequences (`ESC [ … m`), should the node colour its log.
pub fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// First import time of each block in a node's log.
pub fn import_times(log: &str) -> HashMap<(u64, String), i64> {
    let mut times = HashMap::new();
    for line in log.lines().map(plain) {
        if let (Some(at), Some(block)) = (timestamp_ms(&line), imported(&line)) {
            times.entry(block).or_insert(at);
        }
    }
    times
}

/// Delays (ms, sorted) from the author's import to the last node's import, one per block
/// numbered in `numbers` that every node imported; the author is the node that imported it
/// first.
pub fn delays(logs: &[String], numbers: std::ops::Range<u64>) -> Vec<i64> {
    let times: Vec<_> = logs.iter().map(|log| import_times(log)).collect();
    let mut out = Vec::new();
    for (block, _) in times[0].iter().filter(|((n, _), _)| numbers.contains(n)) {
        let at: Vec<i64> = times.iter().filter_map(|t| t.get(block).copied()).collect();
        if at.len() != times.len() {
            continue; // a fork block some node never imported
        }
        let author = *at.iter().min().expect("at least one node");
        let last = at.iter().map(|t| (t - author).rem_euclid(86_400_000)).max();
        out.extend(last);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_parse() {
        let line = "2026-11-26 04:43:34.123  INFO tokio-runtime-worker substrate: 🏆 Imported #12 (0x12ab…34cd → 0x56ef…78aa)";
        assert_eq!(timestamp_ms(line), Some(((4 * 60 + 43) * 60 + 34) * 1000 + 123));
        assert_eq!(imported(line), Some((12, "0x56ef…78aa".into())));
        let coloured =
            "2026-11-26 04:43:34.123  INFO substrate: Imported #\u{1b}[37;1m12\u{1b}[0m (a → b)";
        assert_eq!(imported(&plain(coloured)), Some((12, "b".into())));
    }

    #[test]
    fn delays_count_from_the_author() {
        let log = |n: u64, ms: u64| {
            format!("2026-11-26 00:00:00.{ms:03}  INFO substrate: Imported #{n} (p → h{n})\n")
        };
        let logs = [log(1, 105) + &log(2, 900), log(1, 100) + &log(2, 910), log(1, 140)];
        assert_eq!(
            delays(&logs, 1..3),
            vec![40],
            "the second node authored #1; #2 is not everywhere"
        );
    }
}
