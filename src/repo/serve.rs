//! `pack repo serve`: a chart repository server with the ChartMuseum API subset clients use —
//! `GET /index.yaml`, `GET /charts/<file>`, `POST /api/charts` (a raw archive or a
//! multipart form with `chart` and optional `prov`), `GET /api/charts[/<name>[/<version>]]`,
//! `DELETE /api/charts/<name>/<version>`, `GET /health`. Archives are checked before they are
//! stored (a chart that does not load, or has unsafe entries, is refused with 400); the
//! index is rebuilt after every write and swapped in whole; writes are serialised; with
//! credentials configured, writes need them.

use super::index::{self, Index};
use super::package::{sha256_hex, write_atomic};
use crate::value::Value;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// The largest upload accepted.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// A user allowed to write, with a plain password (`--auth`) or an htpasswd hash.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `--auth user:password`.
    Plain(String, String),
    /// An htpasswd line with a bcrypt (`$2y$`, `$2a$`, `$2b$`) or `{SHA}` hash.
    Hashed(String, String),
}

impl Credential {
    fn accepts(&self, user: &str, password: &str) -> bool {
        match self {
            Credential::Plain(u, p) => u == user && p == password,
            Credential::Hashed(u, hash) => {
                if u != user {
                    return false;
                }
                if let Some(sha) = hash.strip_prefix("{SHA}") {
                    use sha1::Digest as _;
                    let digest = sha1::Sha1::digest(password.as_bytes());
                    return crate::funcs::encoding::base64_encode(&digest) == sha;
                }
                bcrypt::verify(password, hash).unwrap_or(false)
            }
        }
    }
}

/// Reads an htpasswd file: `user:hash` lines with bcrypt or `{SHA}` hashes (Apache's MD5
/// and crypt forms are refused, naming the line).
pub fn read_htpasswd(text: &str, path: &str) -> Result<Vec<Credential>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((user, hash)) = line.split_once(':') else {
            return Err(format!("{path}:{}: not a user:hash line", i + 1));
        };
        let supported = hash.starts_with("$2y$")
            || hash.starts_with("$2a$")
            || hash.starts_with("$2b$")
            || hash.starts_with("{SHA}");
        if !supported {
            return Err(format!(
                "{path}:{}: user {user:?} has a hash pack cannot check; use bcrypt (htpasswd -B)",
                i + 1
            ));
        }
        out.push(Credential::Hashed(user.to_owned(), hash.to_owned()));
    }
    Ok(out)
}

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Where archives are stored.
    pub storage: PathBuf,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Who may write (none: anyone may).
    pub users: Vec<Credential>,
    /// Replace an existing version on upload.
    pub allow_overwrite: bool,
}

struct State {
    config: ServeConfig,
    index: RwLock<Arc<String>>,
    entries: RwLock<Arc<Index>>,
    writes: Mutex<()>,
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops serving.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The storage directory or the address.
    #[error("{0}")]
    Io(String),
}

/// Starts serving on the current tokio runtime.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    std::fs::create_dir_all(&config.storage)
        .map_err(|e| ServeError::Io(format!("{}: {e}", config.storage.display())))?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServeError::Io(format!("listening on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Io(e.to_string()))?;
    let state = Arc::new(State {
        config,
        index: RwLock::new(Arc::new(String::new())),
        entries: RwLock::new(Arc::new(Index::default())),
        writes: Mutex::new(()),
    });
    rebuild(&state).map_err(ServeError::Io)?;
    let (stop, mut stopping) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopping.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = state.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| handle(state.clone(), req));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            }
        }
    });
    Ok(Running { addr, stop, task })
}

/// Builds the index from the storage directory (at start) and swaps it in.
fn rebuild(state: &State) -> Result<(), String> {
    let (idx, _skipped) =
        index::index_dir(&state.config.storage, "", None).map_err(|e| e.to_string())?;
    // Archive URLs relative to the server: `charts/<file>`.
    let mut idx = idx;
    for versions in idx.entries.values_mut() {
        for v in versions.iter_mut() {
            if let Some(Value::List(urls)) = v.get_mut("urls") {
                for u in urls.iter_mut() {
                    if let Some(s) = u.as_str() {
                        *u = Value::from(format!("charts/{s}").as_str());
                    }
                }
            }
        }
    }
    publish(state, idx);
    Ok(())
}

/// Swaps in a new index and its YAML (readers see the old one or the new one, whole).
fn publish(state: &State, idx: Index) {
    let text = idx.to_yaml(&index::now_rfc3339_nano());
    if let Ok(mut i) = state.index.write() {
        *i = Arc::new(text);
    }
    if let Ok(mut e) = state.entries.write() {
        *e = Arc::new(idx);
    }
}

/// Applies one change to a copy of the current index and publishes it: a write costs one
/// archive's worth of work, not a re-read of the whole storage directory. Callers hold the
/// write lock, so changes never race.
fn change(state: &State, f: impl FnOnce(&mut Index)) {
    let mut idx = state
        .entries
        .read()
        .map(|e| Index::clone(&e))
        .unwrap_or_default();
    f(&mut idx);
    idx.sort();
    publish(state, idx);
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn json(status: StatusCode, v: &serde_json::Value) -> Reply {
    reply(status, "application/json", v.to_string())
}

fn error(status: StatusCode, msg: &str) -> Reply {
    json(status, &serde_json::json!({ "error": msg }))
}

fn authorized(state: &State, req: &Request<Incoming>) -> bool {
    if state.config.users.is_empty() {
        return true;
    }
    let Some(header) = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let Some(b64) = header.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = crate::funcs::encoding::base64_decode(b64.trim().as_bytes()) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    let Some((user, pass)) = text.split_once(':') else {
        return false;
    };
    state.config.users.iter().any(|c| c.accepts(user, pass))
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let force = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "force" || p == "force=true"));
    let r = match (&method, path.as_str()) {
        (&Method::GET, "/health") => json(StatusCode::OK, &serde_json::json!({"healthy": true})),
        (&Method::GET, "/index.yaml" | "/") => {
            let text = state.index.read().map(|i| i.clone()).unwrap_or_default();
            reply(StatusCode::OK, "application/x-yaml", text.to_string())
        }
        (&Method::GET, p) if p.starts_with("/charts/") => {
            let file = &p["/charts/".len()..];
            if !safe_file_name(file) {
                error(StatusCode::NOT_FOUND, "not found")
            } else {
                let kind = if file.ends_with(".prov") {
                    "application/pgp-signature"
                } else {
                    "application/gzip"
                };
                match std::fs::read(state.config.storage.join(file)) {
                    Ok(b) => reply(StatusCode::OK, kind, b),
                    Err(_) => error(StatusCode::NOT_FOUND, "not found"),
                }
            }
        }
        (&Method::POST, "/api/charts") => {
            if !authorized(&state, &req) {
                let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized");
                r.headers_mut().insert(
                    hyper::header::WWW_AUTHENTICATE,
                    hyper::header::HeaderValue::from_static("Basic realm=\"pack\""),
                );
                return Ok(r);
            }
            let content_type = req
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            match read_body(req).await {
                Err(r) => r,
                Ok(body) => upload(&state, &content_type, &body, force),
            }
        }
        (&Method::GET, p) if p.starts_with("/api/charts") => list(&state, p),
        (&Method::DELETE, p) if p.starts_with("/api/charts/") => {
            if !authorized(&state, &req) {
                return Ok(error(StatusCode::UNAUTHORIZED, "unauthorized"));
            }
            delete(&state, &p["/api/charts/".len()..])
        }
        _ => error(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(r)
}

async fn read_body(req: Request<Incoming>) -> Result<Vec<u8>, Reply> {
    let mut body = req.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "could not read the request body",
            ));
        };
        if let Some(d) = frame.data_ref() {
            if out.len() + d.len() > MAX_UPLOAD {
                return Err(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "chart archive too large",
                ));
            }
            out.extend_from_slice(d);
        }
    }
    Ok(out)
}

/// A plain archive (or provenance) file name: no directories, no dot files, no traversal.
fn safe_file_name(name: &str) -> bool {
    let archive = name.strip_suffix(".prov").unwrap_or(name);
    super::http::safe_archive_name(archive)
}

/// The `chart` (and `prov`) parts of a multipart form.
fn multipart_parts(content_type: &str, body: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let mut chart = None;
    let mut prov = None;
    let text = body;
    let mut pos = 0;
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    while let Some(start) = find(text, delim.as_bytes(), pos) {
        let part_start = start + delim.len();
        if text[part_start..].starts_with(b"--") {
            break;
        }
        let headers_end = find(text, b"\r\n\r\n", part_start)?;
        let headers = String::from_utf8_lossy(&text[part_start..headers_end]).to_lowercase();
        let data_start = headers_end + 4;
        let next = find(text, format!("\r\n{delim}").as_bytes(), data_start)?;
        let data = text[data_start..next].to_vec();
        if headers.contains("name=\"chart\"") {
            chart = Some(data);
        } else if headers.contains("name=\"prov\"") {
            prov = Some(data);
        }
        pos = next + 2;
    }
    Some((chart?, prov))
}

fn upload(state: &State, content_type: &str, body: &[u8], force: bool) -> Reply {
    let (archive, prov) = if content_type.starts_with("multipart/form-data") {
        match multipart_parts(content_type, body) {
            Some(p) => p,
            None => return error(StatusCode::BAD_REQUEST, "no \"chart\" part in the form"),
        }
    } else {
        (body.to_vec(), None)
    };
    let chart = match crate::chart::load_archive_bytes(&archive, "upload") {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("not a valid chart archive: {e}"),
            );
        }
    };
    let name = chart.name().to_owned();
    let version = chart.metadata.version.clone();
    if crate::versions::parse_version(&version).is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("chart version {version:?} is not SemVer"),
        );
    }
    let file = format!("{name}-{version}.tgz");
    if !safe_file_name(&file) {
        return error(
            StatusCode::BAD_REQUEST,
            "chart name or version not usable as a file name",
        );
    }
    let Ok(_guard) = state.writes.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "storage lock poisoned");
    };
    let path = state.config.storage.join(&file);
    if path.exists() && !(state.config.allow_overwrite || force) {
        return error(StatusCode::CONFLICT, &format!("{file} already exists"));
    }
    if let Err(e) = write_atomic(&path, &archive) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    if let Some(p) = prov
        && let Err(e) = write_atomic(&state.config.storage.join(format!("{file}.prov")), &p)
    {
        return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    let created = index::now_rfc3339_nano();
    change(state, |idx| {
        idx.add(index::entry(
            &chart,
            &archive,
            &format!("charts/{file}"),
            &created,
        ))
    });
    json(
        StatusCode::CREATED,
        &serde_json::json!({"saved": true, "digest": sha256_hex(&archive)}),
    )
}

fn list(state: &State, path: &str) -> Reply {
    let idx = state.entries.read().map(|e| e.clone()).unwrap_or_default();
    let rest: Vec<&str> = path
        .trim_start_matches("/api/charts")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let to_json = |m: &crate::value::Map| serde_json::Value::from(&Value::Map(m.clone()));
    match rest.as_slice() {
        [] => {
            let all: serde_json::Map<String, serde_json::Value> = idx
                .entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::Value::Array(v.iter().map(to_json).collect()),
                    )
                })
                .collect();
            json(StatusCode::OK, &serde_json::Value::Object(all))
        }
        [name] => match idx.entries.get(*name) {
            Some(v) => json(
                StatusCode::OK,
                &serde_json::Value::Array(v.iter().map(to_json).collect()),
            ),
            None => error(StatusCode::NOT_FOUND, "chart not found"),
        },
        [name, version] => match idx.entries.get(*name).and_then(|v| {
            v.iter()
                .find(|e| e.get("version").and_then(Value::as_str) == Some(*version))
        }) {
            Some(e) => json(StatusCode::OK, &to_json(e)),
            None => error(StatusCode::NOT_FOUND, "chart version not found"),
        },
        _ => error(StatusCode::NOT_FOUND, "not found"),
    }
}

fn delete(state: &State, rest: &str) -> Reply {
    let Some((name, version)) = rest.split_once('/') else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let file = format!("{name}-{version}.tgz");
    if !safe_file_name(&file) {
        return error(StatusCode::BAD_REQUEST, "bad chart name or version");
    }
    let Ok(_guard) = state.writes.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "storage lock poisoned");
    };
    let path = state.config.storage.join(&file);
    if std::fs::remove_file(&path).is_err() {
        return error(StatusCode::NOT_FOUND, "chart version not found");
    }
    let _ = std::fs::remove_file(state.config.storage.join(format!("{file}.prov")));
    change(state, |idx| {
        idx.remove(name, version);
    });
    json(StatusCode::OK, &serde_json::json!({"deleted": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_forms() {
        let creds = read_htpasswd("# comment\nalice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "f")
            .expect("sha form");
        // {SHA} of "password".
        assert!(creds[0].accepts("alice", "password"));
        assert!(!creds[0].accepts("alice", "nope"));
        assert!(!creds[0].accepts("bob", "password"));
        let err = read_htpasswd("bob:$apr1$abc$def\n", "f").unwrap_err();
        assert!(err.contains("f:1") && err.contains("bcrypt"), "{err}");
        assert!(read_htpasswd("no-colon\n", "f").is_err());
    }
}
