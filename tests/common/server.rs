//! An embedded API server for tests: in-process on a loopback port, stopped when dropped,
//! with a kubeconfig and a kubectl command pointing at it.
#![allow(dead_code)]

use pack::apiserver::{self, Config, Running};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running in-process server.
pub struct TestServer {
    pub running: Option<Running>,
    pub runtime: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl TestServer {
    /// Starts a server (in memory unless `data_dir` is given).
    pub fn start(data_dir: Option<&Path>) -> TestServer {
        TestServer::start_with(Config {
            data_dir: data_dir.map(Path::to_path_buf),
            ..Config::default()
        })
    }

    /// Starts a server with a given configuration.
    pub fn start_with(config: Config) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let running = runtime
            .block_on(apiserver::start(config))
            .expect("server starts");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, apiserver::kubeconfig(&running.url())).expect("kubeconfig");
        TestServer {
            running: Some(running),
            runtime,
            dir,
            kubeconfig,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.running.as_ref().map(|r| r.url()).unwrap_or_default()
    }

    /// A kubectl command for this server, isolated from the user's config and cache.
    pub fn kubectl(&self, kubectl: &Path) -> Command {
        let mut cmd = Command::new(kubectl);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"));
        cmd
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.stop());
        }
    }
}

/// Runs a command, asserting success; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command expecting failure; returns its output.
pub fn fails(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}
