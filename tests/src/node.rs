//! One `flarechain-node` process with its own ports, base path and log file.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{ports::free_port, rpc::Rpc};

/// How many log lines a failure report shows.
const LOG_TAIL_LINES: usize = 60;

/// Path of the node binary: `$FLARECHAIN_NODE`, else the release build in the target dir.
pub fn node_binary() -> PathBuf {
    if let Ok(path) = std::env::var("FLARECHAIN_NODE") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/flarechain/target")
    });
    target.join("release/flarechain-node")
}

/// `$env_var` if set, else the binary `name` next to the node (`make build` puts it there).
pub fn beside_node(env_var: &str, name: &str) -> PathBuf {
    std::env::var(env_var).map(PathBuf::from).unwrap_or_else(|_| node_binary().with_file_name(name))
}

/// How to start a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Name used in logs and failure reports.
    pub name: String,
    /// `--chain` value (`dev`, `local` or a spec file).
    pub chain: String,
    /// Dev account flag such as `--alice`, if any.
    pub key_flag: Option<String>,
    /// `--node-key` (hex), to give the node a known PeerId.
    pub node_key: Option<String>,
    /// `--bootnodes` multiaddresses.
    pub bootnodes: Vec<String>,
    /// Any other flags.
    pub extra_args: Vec<String>,
}

impl NodeConfig {
    /// A node of `chain` named `name` with no other settings.
    pub fn new(name: &str, chain: &str) -> Self {
        Self {
            name: name.into(),
            chain: chain.into(),
            key_flag: None,
            node_key: None,
            bootnodes: Vec::new(),
            extra_args: Vec::new(),
        }
    }
}

/// A running node; killed when dropped.
pub struct TestNode {
    /// The settings it was started with.
    pub config: NodeConfig,
    /// Its libp2p port on 127.0.0.1.
    pub p2p_port: u16,
    /// Its JSON-RPC port on 127.0.0.1.
    pub rpc_port: u16,
    /// Its Prometheus port on 127.0.0.1.
    pub prometheus_port: u16,
    child: Child,
    log_path: PathBuf,
    dir: tempfile::TempDir,
}

impl TestNode {
    /// Starts the node; panics with a clear message when the binary is missing.
    pub fn start(config: NodeConfig) -> Self {
        let binary = node_binary();
        assert!(
            binary.exists(),
            "flarechain-node not found at {} (run `make build` or set FLARECHAIN_NODE)",
            binary.display()
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log_path = dir.path().join("node.log");
        let (p2p_port, rpc_port, prometheus_port) = (free_port(), free_port(), free_port());
        let child = spawn(&config, dir.path(), &log_path, [p2p_port, rpc_port, prometheus_port]);
        Self { config, p2p_port, rpc_port, prometheus_port, child, log_path, dir }
    }

    /// Stops the node and starts it again with the same ports and base path (the log goes on).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let ports = [self.p2p_port, self.rpc_port, self.prometheus_port];
        self.child = spawn(&self.config, self.dir.path(), &self.log_path, ports);
    }

    /// The node's log so far (empty if unreadable).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Whether the node's log contains `text`.
    pub fn log_contains(&self, text: &str) -> bool {
        self.log().contains(text)
    }

    /// How many times `text` appears in the node's log.
    pub fn log_count(&self, text: &str) -> usize {
        self.log().matches(text).count()
    }

    /// Waits until `text` appears `count` times in the node's log; fails with the log tail
    /// after `timeout`. The node buffers its log and flushes it every 50 ms (sc-tracing), so a
    /// line can lag behind a state RPC already shows: wait for an expected line with this.
    pub async fn wait_log(&self, text: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.log_count(text) < count {
            if Instant::now() > deadline {
                self.fail(&format!("{text:?} not logged {count} times within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A JSON-RPC client for this node.
    pub fn rpc(&self) -> Rpc {
        Rpc::new(self.rpc_port)
    }

    /// The Prometheus text of this node's `/metrics` (empty if unreachable after 3 tries).
    pub fn metrics(&self) -> String {
        (0..3).map(|_| self.fetch_metrics()).find(|body| !body.is_empty()).unwrap_or_default()
    }

    fn fetch_metrics(&self) -> String {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.prometheus_port))
        else {
            std::thread::sleep(Duration::from_millis(200));
            return String::new();
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        let mut body = String::new();
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_string(&mut body);
        }
        body
    }

    /// The value of the metric line starting with `prefix` (name and labels), if present.
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        self.metrics()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// This node's multiaddress with the given PeerId.
    pub fn multiaddr(&self, peer_id: &str) -> String {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", self.p2p_port)
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self) -> String {
        tail(&self.log_path, LOG_TAIL_LINES)
    }

    /// Panics with `what` and the node's log tail.
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n---- last {LOG_TAIL_LINES} log lines of {} ----\n{}",
            self.config.name,
            self.log_tail()
        )
    }

    /// The node's resident memory in KiB (`VmRSS` of /proc), if it runs.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Polls `check` every 500 ms until it gives `Some`, the node exits, or `timeout` passes.
    pub async fn wait_for<T, F, Fut>(&mut self, what: &str, timeout: Duration, mut check: F) -> T
    where
        F: FnMut(Rpc) -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_running() {
                self.fail(&format!("node exited while waiting for {what}"));
            }
            if let Some(value) = check(self.rpc()).await {
                return value;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until the finalized head reaches `number`.
    pub async fn wait_finalized(&mut self, number: u64, timeout: Duration) -> u64 {
        self.wait_for(&format!("finalized block #{number}"), timeout, |rpc| async move {
            rpc.finalized_number().await.filter(|n| *n >= number)
        })
        .await
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns the node process of `config` in `dir`, appending its output to `log_path`.
fn spawn(
    config: &NodeConfig,
    dir: &Path,
    log_path: &Path,
    [p2p, rpc, prometheus]: [u16; 3],
) -> Child {
    let binary = node_binary();
    let log = fs::OpenOptions::new().create(true).append(true).open(log_path).expect("a log file");
    let mut cmd = Command::new(&binary);
    cmd.arg("--chain")
        .arg(&config.chain)
        .arg("--base-path")
        .arg(dir.join("data"))
        .arg("--listen-addr")
        .arg(format!("/ip4/127.0.0.1/tcp/{p2p}"))
        .arg("--rpc-port")
        .arg(rpc.to_string())
        .arg("--prometheus-port")
        .arg(prometheus.to_string())
        .args([
            "--no-mdns",
            "--no-telemetry",
            "--rpc-cors",
            "all",
            "--unsafe-force-node-key-generation",
        ])
        .arg("--name")
        .arg(&config.name);
    if let Some(flag) = &config.key_flag {
        cmd.arg(flag);
    }
    if let Some(key) = &config.node_key {
        cmd.arg("--node-key").arg(key);
    }
    if !config.bootnodes.is_empty() {
        cmd.arg("--bootnodes").args(&config.bootnodes);
    }
    cmd.args(&config.extra_args);
    cmd.stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
