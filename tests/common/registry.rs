//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry
//! 2.8), started on a loopback port with its storage in a temporary directory and stopped
//! when dropped. `scripts/install-test-services` installs it (scripts/test runs that).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

fn find(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

/// A system tool the OCI tests need (`docker-registry`, `gpg`): `None` with a visible
/// message outside CI when it is missing; in CI its absence fails the test.
pub fn tool(binary: &str) -> Option<PathBuf> {
    if let Some(p) = find(binary) {
        return Some(p);
    }
    let msg =
        format!("{binary} is not installed: run scripts/install-test-services (scripts/test does)");
    assert!(!super::in_ci(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

/// The HTTP status line's code of `GET /v2/`, if the server answers.
fn probe(host: &str) -> Option<u16> {
    let mut s = TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut buf = [0u8; 32];
    let n = s.read(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Registry {
    /// Starts a registry storing under `dir`; with `htpasswd`, every request needs Basic
    /// credentials from that file. `None` (skipped) when the registry is not installed.
    pub fn start(dir: &Path, htpasswd: Option<&Path>) -> Option<Registry> {
        let binary = tool("docker-registry")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: pack-tests\n",
            dir.join("storage").display()
        );
        if let Some(h) = htpasswd {
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: pack-tests\n    path: {}\n",
                h.display()
            ));
        }
        std::fs::create_dir_all(dir).expect("registry dir");
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).expect("registry config");
        let log = std::fs::File::create(dir.join("registry.log")).expect("registry log");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry { child, host };
        let deadline = Instant::now() + Duration::from_secs(20);
        while probe(&registry.host).is_none() {
            assert!(
                Instant::now() < deadline,
                "the registry did not answer within 20 s: {}",
                std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(registry)
    }

    /// `oci://127.0.0.1:PORT/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GnuPG key exported as keyring files.
pub struct Keys {
    /// `gpg --export-secret-keys` (binary).
    pub secring: PathBuf,
    /// `gpg --export` (binary).
    pub pubring: PathBuf,
    /// `gpg --armor --export`.
    pub pubring_asc: PathBuf,
}

/// A fresh GnuPG key (no passphrase) for `uid`, exported as legacy keyrings under `dir`.
/// `None` (skipped) without gpg.
pub fn gpg_key(dir: &Path, uid: &str, algo: &str) -> Option<Keys> {
    gpg_key_with(dir, uid, algo, "")
}

/// Like [`gpg_key`], the secret key protected by `passphrase` (none when empty).
pub fn gpg_key_with(dir: &Path, uid: &str, algo: &str, passphrase: &str) -> Option<Keys> {
    let gpg = tool("gpg")?;
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let run = |args: &[&str]| {
        let out = Command::new(&gpg)
            .env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                passphrase,
            ])
            .args(args)
            .output()
            .expect("gpg runs");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["--quick-gen-key", uid, algo, "sign", "never"]);
    let keys = Keys {
        secring: dir.join("secring.gpg"),
        pubring: dir.join("pubring.gpg"),
        pubring_asc: dir.join("pubring.asc"),
    };
    std::fs::write(&keys.secring, run(&["--export-secret-keys"])).expect("secring");
    std::fs::write(&keys.pubring, run(&["--export"])).expect("pubring");
    std::fs::write(&keys.pubring_asc, run(&["--armor", "--export"])).expect("pubring.asc");
    // gpg-agent outlives the command; stop it so no process is left behind.
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .output();
    Some(keys)
}
