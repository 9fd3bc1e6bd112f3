//! One `detr-discovery` process (go-core) on 127.0.0.1, killed when dropped.

use std::{
    fs,
    io::{Read, Write},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::ports::free_port;

/// Path of the daemon: `$DETR_DISCOVERY`, else next to the node in the target dir.
pub fn daemon_binary() -> PathBuf {
    crate::node::beside_node("DETR_DISCOVERY", "detr-discovery")
}

/// A running daemon.
pub struct Daemon {
    /// Its HTTP API, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// `<peer-id-hex>@127.0.0.1:<udp port>`, for other daemons' `-bootstrap`.
    pub contact: String,
    args: Vec<String>,
    http_port: u16,
    child: Child,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn spawn(args: &[String], log_path: &PathBuf) -> Child {
    let binary = daemon_binary();
    assert!(binary.exists(), "detr-discovery not found at {} (run `make build`)", binary.display());
    let log = fs::OpenOptions::new().create(true).append(true).open(log_path).expect("a log file");
    Command::new(binary)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("detr-discovery starts")
}

impl Daemon {
    /// Starts a daemon joining through `bootstrap` (contact strings), with a key file of its own.
    pub fn start(bootstrap: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let http_port = free_port();
        let args: Vec<String> = [
            "-listen".to_string(),
            format!("127.0.0.1:{}", free_port()),
            "-http".into(),
            format!("127.0.0.1:{http_port}"),
            "-key-file".into(),
            dir.path().join("daemon.key").display().to_string(),
            "-refresh".into(),
            "500ms".into(),
            "-bootstrap".into(),
            bootstrap.join(","),
        ]
        .into();
        let log_path = dir.path().join("daemon.log");
        let child = spawn(&args, &log_path);
        let mut daemon = Self {
            url: format!("http://127.0.0.1:{http_port}"),
            contact: String::new(),
            args,
            http_port,
            child,
            log_path,
            _dir: dir,
        };
        daemon.contact = daemon.wait_healthy()["contact"].as_str().expect("contact").to_string();
        daemon
    }

    /// `GET path` on the API: the JSON answer, `None` if the daemon does not answer.
    pub fn get(&self, path: &str) -> Option<Value> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.http_port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).ok()?;
        serde_json::from_str(text.split("\r\n\r\n").nth(1)?).ok()
    }

    fn wait_healthy(&mut self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(health) = self.get("/v1/health") {
                return health;
            }
            if Instant::now() > deadline || !matches!(self.child.try_wait(), Ok(None)) {
                panic!("detr-discovery did not come up:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the daemon.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again with the same key and ports.
    pub fn start_again(&mut self) {
        self.stop();
        self.child = spawn(&self.args, &self.log_path);
        self.wait_healthy();
    }

    /// The daemon's log.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
