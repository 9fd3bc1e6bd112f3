//! The polkadot-js scripts of `zombienet/scripts/`, run with `node` (installed by
//! `scripts/setup.sh`); each prints one JSON line.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

/// Longest a script may run (the scripts stop themselves after 90 s).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Path of `zombienet/scripts/<name>` in the checkout the tests run from: `cargo test` names it
/// at run time. (The path compiled in is that of the checkout that last built this library; with
/// one target dir shared by several clones, a test run from one clone ran another's scripts.)
pub fn script_path(name: &str) -> PathBuf {
    let tests = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    tests.join("../zombienet/scripts").join(name)
}

/// Runs `node <script> <args>`: its JSON output, or its stderr as the error.
pub async fn run_script(name: &str, args: &[&str]) -> Result<Value, String> {
    let output = tokio::time::timeout(
        SCRIPT_TIMEOUT,
        tokio::process::Command::new("node").arg(script_path(name)).args(args).output(),
    )
    .await
    .map_err(|_| format!("{name} ran over {SCRIPT_TIMEOUT:?}"))?
    .map_err(|e| format!("running node {name}: {e} (scripts/setup.sh installs Node.js)"))?;
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if !output.status.success() {
        return Err(stderr);
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{name}: output is not JSON: {e}"))
}
