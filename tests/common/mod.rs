//! Helpers shared by integration tests: finding the reference helm/kubectl and the shared
//! corpus, and running the pack binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// True when running in CI, where a missing prerequisite is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Where `scripts/fetch-reference-tools` puts the reference binaries.
fn reference_tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PACK_REFERENCE_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("pack").join("reference-tools")
}

/// The path of a reference tool (`helm` or `kubectl`). `None` (with a visible message) when
/// it is not installed outside CI; in CI a missing tool fails the test.
pub fn reference_tool(name: &str) -> Option<PathBuf> {
    let path = reference_tools_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "reference tool {name} not found at {}: run scripts/fetch-reference-tools (scripts/test does)",
        path.display()
    );
    assert!(!in_ci(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

/// `../shared` beside the project root, when present. In CI its absence fails the test.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(!in_ci(), "../shared is missing beside the project root");
    eprintln!("SKIPPED: ../shared is not beside the project root");
    None
}

/// Runs a command and returns its stdout, failing the test with stderr on a non-zero exit.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A `helm` command isolated from the user's configuration.
pub fn helm(path: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(path);
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG")
        .env_remove("HELM_NAMESPACE");
    cmd
}
/// The pack binary with its config, cache and data directories under `home`, so a test's
/// repositories and caches are its own.
pub fn pack_in(home: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pack").expect("pack binary");
    c.env("PACK_CONFIG_HOME", home.join("config"))
        .env("PACK_CACHE_HOME", home.join("cache"))
        .env("PACK_DATA_HOME", home.join("data"))
        .env("DOCKER_CONFIG", home.join("docker"));
    c
}

/// Writes `files` (paths relative to `root`, `/`-separated) with their parent directories:
/// a small chart for a test.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(&path, text).expect("write");
    }
}

/// Copies a directory tree into `to` (created as needed).
pub fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&target).expect("dir");
            copy_dir(&e.path(), &target);
        } else {
            std::fs::create_dir_all(to).expect("dir");
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

pub mod registry;
pub mod server;
pub mod static_http;
