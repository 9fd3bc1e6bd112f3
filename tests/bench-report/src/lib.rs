//! Ratio tables for benchmarks: each row compares a subject with a baseline measured in the same
//! run, from the `new/estimates.json` files criterion writes under `<target>/criterion/` or as
//! the bench timed them itself; and a counting allocator for the benches that measure memory.

mod heap;
mod turns;

pub use heap::{live_bytes, CountingAllocator};
pub use turns::in_turns;

use std::path::PathBuf;

/// One row: the subject's and the baseline's criterion ids, and the bytes (or items) per iteration.
pub struct Row {
    /// Row label.
    pub label: String,
    /// Criterion id of the subject (`group/function/parameter`).
    pub subject: String,
    /// Criterion id of the baseline.
    pub baseline: String,
    /// Bytes per iteration, for a throughput column (0: none).
    pub bytes: u64,
    /// The ratio the subject should reach (subject throughput / baseline throughput).
    pub target: f64,
}

/// Whether `cargo bench <filter>` names another bench than the harness-less bench `name`:
/// cargo runs every bench binary with `--bench` and the filter, and criterion's benches skip
/// themselves in the same way.
pub fn skipped_by_filter(name: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    filter.is_some_and(|f| !name.contains(&f))
}

/// The `p` quantile (0–1) of `sorted`: the value at rank `round((len − 1) × p)`.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn criterion_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("criterion")
}

/// Mean time per iteration in nanoseconds of the benchmark `id`, if measured.
pub fn mean_ns(id: &str) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json.get("mean")?.get("point_estimate")?.as_f64()
}

/// A row the bench timed itself (no criterion): the subject's and the baseline's mean time per
/// iteration.
pub struct Measured {
    /// Row label.
    pub label: String,
    /// Mean nanoseconds per iteration of the subject.
    pub subject_ns: f64,
    /// Mean nanoseconds per iteration of the baseline.
    pub baseline_ns: f64,
    /// Bytes per iteration, for a throughput column (0: none).
    pub bytes: u64,
    /// The ratio the subject should reach (subject throughput / baseline throughput).
    pub target: f64,
}

fn header(title: &str) {
    println!("\n== {title}: subject vs baseline (same run) ==");
    println!(
        "{:<40} {:>12} {:>12} {:>8} {:>8} {:>10}",
        "case", "subject", "baseline", "ratio", "target", "GB/s"
    );
}

fn line(row: &Measured) {
    let (s, b) = (row.subject_ns, row.baseline_ns);
    let ratio = b / s;
    let gbps = if row.bytes > 0 { format!("{:.2}", row.bytes as f64 / s) } else { "-".into() };
    let mark = if ratio + 1e-9 < row.target { "  BELOW TARGET" } else { "" };
    println!(
        "{:<40} {:>10.0}ns {:>10.0}ns {:>7.2}x {:>7.2}x {:>10}{mark}",
        row.label, s, b, ratio, row.target, gbps
    );
}

/// Prints the table of criterion's rows; a row whose ratio is below its target is marked
/// `BELOW TARGET`.
pub fn print(title: &str, rows: &[Row]) {
    header(title);
    for row in rows {
        match (mean_ns(&row.subject), mean_ns(&row.baseline)) {
            (Some(subject_ns), Some(baseline_ns)) => line(&Measured {
                label: row.label.clone(),
                subject_ns,
                baseline_ns,
                bytes: row.bytes,
                target: row.target,
            }),
            _ => println!("{:<40} (not measured in this run)", row.label),
        }
    }
}

/// Prints the table of rows the bench timed itself, as [`print`] does.
pub fn print_measured(title: &str, rows: &[Measured]) {
    header(title);
    rows.iter().for_each(line);
}
