//! API server load benchmark: `pack cluster serve` (release build, on-disk store) in its own
//! process, driven over loopback HTTP/1.1 keep-alive connections by this process.
//!
//! Measures durable creates/s (32 clients, 1 KB ConfigMaps), GETs/s (32 clients), LIST of
//! 1,000 objects, create throughput with a watch open per 100 writers' worth of events, and
//! the server's RSS holding 10,000 objects.
//!
//! Run: `cargo bench --bench apiserver` (add `-- --quick` for a short run).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::TcpStream;

/// One keep-alive connection with a tiny HTTP/1.1 client (Content-Length bodies only).
struct Conn {
    stream: TokioBufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream: TokioBufReader::new(stream),
            host: addr.to_string(),
        }
    }

    async fn request(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        self.stream.get_mut().write_all(&out).await.expect("write");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line");
        let code: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status code");
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().expect("length");
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.expect("body");
        (code, body)
    }
}

fn configmap(name: &str, payload: &str) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","labels":{{"bench":"yes"}}}},"data":{{"payload":"{payload}"}}}}"#
    )
    .into_bytes()
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs `clients` connections, each doing `per_client` requests made by `make`.
async fn load<F>(addr: &str, clients: usize, per_client: usize, make: F) -> f64
where
    F: Fn(usize, usize) -> (&'static str, String, Vec<u8>, u16) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let make = make.clone();
            let addr = addr.to_string();
            tokio::spawn(async move {
                let mut conn = Conn::open(&addr).await;
                for i in 0..per_client {
                    let (method, path, body, want) = make(c, i);
                    let (code, resp) = conn.request(method, &path, &body).await;
                    assert_eq!(code, want, "{}", String::from_utf8_lossy(&resp));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client");
    }
    (clients * per_client) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 4 } else { 1 };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["cluster", "serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pack cluster serve");
    let mut first = String::new();
    let mut reader = BufReader::new(server.stdout.take().expect("stdout"));
    reader.read_line(&mut first).expect("first line");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .expect("address")
        .to_string();
    let pid = server.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let payload = "x".repeat(1000);
    let rss_start = rss_mb(pid);
    println!("pack API server benchmark (server pid {pid}, data on disk, HTTP/1.1 keep-alive)");
    println!("server RSS at start: {rss_start:.1} MB");

    runtime.block_on(async {
        // 1. Durable creates: 32 clients, 10,000 ConfigMaps of ~1 KB.
        let total = 10_000 / scale;
        let per = total / 32;
        let p = payload.clone();
        let rate = load(&addr, 32, per, move |c, i| {
            (
                "POST",
                "/api/v1/namespaces/default/configmaps".to_string(),
                configmap(&format!("cm-{c}-{i}"), &p),
                201,
            )
        })
        .await;
        let objects = per * 32;
        println!("creates (32 clients, 1 KB, durable): {rate:.0}/s");
        println!("server RSS with {objects} objects: {:.1} MB", rss_mb(pid));

        // 2. GETs: 32 clients.
        let gets = 100_000 / scale / 32;
        let rate = load(&addr, 32, gets, move |c, i| {
            (
                "GET",
                format!("/api/v1/namespaces/default/configmaps/cm-{}-{}", (c + i) % 32, i % per),
                Vec::new(),
                200,
            )
        })
        .await;
        println!("GETs (32 clients): {rate:.0}/s");

        // 3. LIST of 1,000 objects in their own namespace.
        let mut conn = Conn::open(&addr).await;
        let ns = br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"list1k"}}"#;
        assert_eq!(conn.request("POST", "/api/v1/namespaces", ns).await.0, 201);
        let p = payload.clone();
        load(&addr, 8, 125, move |c, i| {
            (
                "POST",
                "/api/v1/namespaces/list1k/configmaps".to_string(),
                configmap(&format!("l-{c}-{i}"), &p),
                201,
            )
        })
        .await;
        let rounds = 50 / scale;
        let started = Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            let (code, body) = conn
                .request("GET", "/api/v1/namespaces/list1k/configmaps", b"")
                .await;
            assert_eq!(code, 200);
            bytes = body.len();
        }
        let per_list = started.elapsed().as_secs_f64() / rounds as f64;
        println!(
            "LIST of 1,000 objects ({:.1} MB): {:.1} ms",
            bytes as f64 / 1e6,
            per_list * 1000.0
        );

        // 4. Creates with watches open: one watch per 100 writers' events (32 writers → 1
        //    watch on the namespace), counting the events it receives.
        let seen = Arc::new(AtomicUsize::new(0));
        let ns = br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watched"}}"#;
        assert_eq!(conn.request("POST", "/api/v1/namespaces", ns).await.0, 201);
        let watch_seen = seen.clone();
        let watch_addr = addr.clone();
        let watcher = tokio::spawn(async move {
            let mut stream = TcpStream::connect(&watch_addr).await.expect("connect");
            let req = format!(
                "GET /api/v1/namespaces/watched/configmaps?watch=true&timeoutSeconds=120 HTTP/1.1\r\nHost: {watch_addr}\r\n\r\n"
            );
            stream.write_all(req.as_bytes()).await.expect("write");
            let mut reader = TokioBufReader::new(stream);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line.starts_with("{\"type\":\"ADDED\"") {
                    watch_seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let total = 5_000 / scale;
        let per = total / 32;
        let p = payload.clone();
        let rate = load(&addr, 32, per, move |c, i| {
            (
                "POST",
                "/api/v1/namespaces/watched/configmaps".to_string(),
                configmap(&format!("w-{c}-{i}"), &p),
                201,
            )
        })
        .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while seen.load(Ordering::Relaxed) < per * 32 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "creates with a watch open (32 clients): {rate:.0}/s; watch received {}/{} events",
            seen.load(Ordering::Relaxed),
            per * 32
        );
        watcher.abort();
    });
    println!("server RSS at end: {:.1} MB", rss_mb(pid));
    let _ = server.kill();
    let _ = server.wait();
}
