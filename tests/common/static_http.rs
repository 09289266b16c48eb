//! A static file server on loopback for tests: serves a directory, optionally behind
//! basic auth.

use std::path::PathBuf;

/// A static file server on loopback for the test's lifetime (HTTP/1.1, one request per
/// connection), optionally demanding basic auth (`user:pass`, base64).
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StaticServer {
    pub fn start(root: PathBuf, basic: Option<&'static str>) -> StaticServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).ok();
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).ok();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut authorized = basic.is_none();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(b) = basic
                        && h.to_ascii_lowercase().starts_with("authorization: basic ")
                        && h.trim_end().ends_with(b)
                    {
                        authorized = true;
                    }
                }
                let mut out = stream;
                let file = root.join(path.trim_start_matches('/'));
                let (status, body) = if !authorized {
                    ("401 Unauthorized", Vec::new())
                } else if file.is_file() {
                    ("200 OK", std::fs::read(&file).unwrap_or_default())
                } else {
                    ("404 Not Found", Vec::new())
                };
                let _ = write!(
                    out,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = out.write_all(&body);
            }
        });
        StaticServer { url, stop }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
