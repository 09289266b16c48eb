//! The OCI distribution API on the wire: blobs, manifests and tags of one registry, with the
//! registry's authentication challenge answered (HTTP Basic, or a Bearer token fetched from
//! the realm it names).

use super::credentials::Credential;
use crate::funcs::encoding::base64_encode;
use crate::repo::http::RepoError;
use crate::repo::package::sha256_hex;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use reqwest::{Method, StatusCode};
use std::sync::Mutex;

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// `host[:port]`.
    pub host: String,
    /// Speak HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Skip TLS certificate checks.
    pub insecure_skip_tls_verify: bool,
    /// A CA bundle (PEM) to trust, empty for the system's.
    pub ca_file: String,
    /// Credentials to answer a challenge with.
    pub credential: Option<Credential>,
}

/// A client for one registry.
pub struct Client {
    http: Http,
    base: String,
    host: String,
    credential: Option<Credential>,
    /// The `Authorization` value that last worked (or was granted), sent up front.
    authorization: Mutex<Option<String>>,
}

/// A content descriptor (media type, digest, size), as manifests list them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Its length in bytes.
    pub size: u64,
}

impl Descriptor {
    /// The descriptor of `bytes`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: format!("sha256:{}", sha256_hex(bytes)),
            size: bytes.len() as u64,
        }
    }
}

fn unreachable(url: &str, message: impl Into<String>) -> RepoError {
    RepoError::Registry {
        url: url.to_owned(),
        message: message.into(),
    }
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Default, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `Bearer realm="…",service="…",scope="repository:a/b:pull,push"` (quoted values
/// may hold commas).
fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_owned();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.push((key, value.trim().to_owned()));
    }
    Challenge {
        scheme: scheme.to_owned(),
        params,
    }
}

/// The message of a distribution-API error body (`{"errors":[{"code","message"}]}`), or
/// the body itself.
fn error_message(status: StatusCode, body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let errors = v.get("errors")?.as_array()?;
            let parts: Vec<String> = errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or_default();
                    let message = e
                        .get("message")
                        .and_then(|c| c.as_str())
                        .unwrap_or_default();
                    if code.is_empty() {
                        message.to_owned()
                    } else {
                        format!("{code}: {message}")
                    }
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        });
    match from_json {
        Some(m) => format!("{status}: {m}"),
        None if body.trim().is_empty() => status.to_string(),
        None => format!("{status}: {}", body.trim()),
    }
}

impl Client {
    /// A client for `conn`.
    pub fn new(conn: &Connection) -> Result<Client, RepoError> {
        let http = if conn.plain_http && conn.ca_file.is_empty() {
            // Plain HTTP needs no certificate roots, and loading the system's (some 150
            // files) costs more CPU than the pull itself.
            Http::builder()
                .timeout(std::time::Duration::from_secs(120))
                .tls_certs_only(std::iter::empty())
                .build()
                .map_err(|e| RepoError::User(format!("HTTP client: {e}")))?
        } else {
            crate::repo::http::client(conn.insecure_skip_tls_verify, &conn.ca_file)?
        };
        let scheme = if conn.plain_http { "http" } else { "https" };
        Ok(Client {
            http,
            base: format!("{scheme}://{}", conn.host),
            host: conn.host.clone(),
            credential: conn.credential.clone(),
            authorization: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn current_authorization(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|a| a.clone())
    }

    /// Sends a request built by `build`, answering one authentication challenge.
    fn send(
        &self,
        method: Method,
        path: &str,
        build: &dyn Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RepoError> {
        let url = self.url(path);
        let attempt = |auth: Option<&str>| {
            let mut req = build(self.http.request(method.clone(), &url));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            req.send().map_err(|e| {
                unreachable(&url, format!("cannot reach the registry: {}", describe(&e)))
            })
        };
        let first = attempt(self.current_authorization().as_deref())?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let header = first
            .headers()
            .get("WWW-Authenticate")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let challenge = parse_challenge(&header);
        let authorization = self.answer(&challenge, &url)?;
        let second = attempt(Some(&authorization))?;
        if second.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(&url));
        }
        if let Ok(mut a) = self.authorization.lock() {
            *a = Some(authorization);
        }
        Ok(second)
    }

    fn unauthorized(&self, url: &str) -> RepoError {
        let hint = if self.credential.is_some() {
            "the registry refused the credentials"
        } else {
            "the registry needs credentials"
        };
        RepoError::User(format!(
            "{url}: 401 Unauthorized: {hint}: run `pack registry login {}` or pass --username/--password",
            self.host
        ))
    }

    /// The `Authorization` value answering `challenge`.
    fn answer(&self, challenge: &Challenge, url: &str) -> Result<String, RepoError> {
        let basic = self.credential.as_ref().map(|c| {
            format!(
                "Basic {}",
                base64_encode(format!("{}:{}", c.username, c.password).as_bytes())
            )
        });
        if challenge.scheme.eq_ignore_ascii_case("basic") {
            return basic.ok_or_else(|| self.unauthorized(url));
        }
        if !challenge.scheme.eq_ignore_ascii_case("bearer") {
            return Err(RepoError::User(format!(
                "{url}: the registry asks for {:?} authentication, which pack does not speak (Basic and Bearer only)",
                challenge.scheme
            )));
        }
        let realm = challenge.param("realm").ok_or_else(|| {
            unreachable(url, "the registry's Bearer challenge names no token realm")
        })?;
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = challenge.param("service") {
            query.push(("service", s));
        }
        if let Some(s) = challenge.param("scope") {
            query.push(("scope", s));
        }
        let token_url = reqwest::Url::parse_with_params(realm, &query)
            .map_err(|e| unreachable(realm, format!("the token realm is not a URL: {e}")))?;
        let mut req = self.http.get(token_url);
        if let Some(b) = &basic {
            req = req.header("Authorization", b);
        }
        let resp = req.send().map_err(|e| unreachable(realm, describe(&e)))?;
        let status = resp.status();
        let body = resp.text().unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(url));
        }
        if !status.is_success() {
            return Err(unreachable(realm, error_message(status, &body)));
        }
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| unreachable(realm, format!("the token answer is not JSON: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unreachable(realm, "the token answer holds no token"))?;
        Ok(format!("Bearer {token}"))
    }

    fn check(resp: Response, what: &str) -> Result<Response, RepoError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let url = resp.url().to_string();
        let body = resp.text().unwrap_or_default();
        let message = error_message(status, &body);
        Err(if status == StatusCode::NOT_FOUND {
            RepoError::User(format!("{what}: not found ({message})"))
        } else {
            unreachable(&url, format!("{what}: {message}"))
        })
    }

    /// `GET /v2/`: the registry answers, and accepts the credentials.
    pub fn ping(&self) -> Result<(), RepoError> {
        let resp = self.send(Method::GET, "/v2/", &|r| r)?;
        Self::check(resp, &format!("{}/v2/", self.base)).map(|_| ())
    }

    /// Every tag of `repository`, following the registry's pages.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, RepoError> {
        let mut out = Vec::new();
        let mut next = Some(format!("/v2/{repository}/tags/list"));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > 1000 {
                return Err(RepoError::User(format!(
                    "{}: more than 1000 pages of tags: refusing to go on",
                    self.host
                )));
            }
            let resp = self.send(Method::GET, &path, &|r| r)?;
            let resp = Self::check(resp, &format!("{}/{repository}", self.host))?;
            next = resp
                .headers()
                .get("Link")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| {
                    let (target, rel) = l.split_once(';')?;
                    rel.contains("next").then(|| {
                        target
                            .trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_owned()
                    })
                });
            let v: serde_json::Value = resp
                .json()
                .map_err(|e| unreachable(&self.url(&path), format!("tag list: {e}")))?;
            if let Some(tags) = v.get("tags").and_then(|t| t.as_array()) {
                out.extend(tags.iter().filter_map(|t| t.as_str()).map(str::to_owned));
            }
        }
        Ok(out)
    }

    /// A manifest by tag or digest: its bytes and digest (checked when asked by digest).
    pub fn manifest(
        &self,
        repository: &str,
        reference: &str,
        accept: &str,
    ) -> Result<(Vec<u8>, String), RepoError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let resp = self.send(Method::GET, &path, &|r| r.header("Accept", accept))?;
        let resp = Self::check(resp, &format!("{}/{repository}:{reference}", self.host))?;
        let bytes = resp
            .bytes()
            .map_err(|e| unreachable(&self.url(&path), describe(&e)))?
            .to_vec();
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(RepoError::User(format!(
                "{}/{repository}@{reference}: the registry sent a manifest whose digest is {digest}: refusing it",
                self.host
            )));
        }
        Ok((bytes, digest))
    }

    /// A blob, checked against its descriptor's digest and size.
    pub fn blob(&self, repository: &str, d: &Descriptor, limit: u64) -> Result<Vec<u8>, RepoError> {
        if d.size > limit {
            return Err(RepoError::User(format!(
                "{}/{repository}: the layer {} is {} bytes, over the {limit}-byte limit",
                self.host, d.digest, d.size
            )));
        }
        let path = format!("/v2/{repository}/blobs/{}", d.digest);
        let resp = self.send(Method::GET, &path, &|r| r)?;
        let resp = Self::check(resp, &format!("{}/{repository}@{}", self.host, d.digest))?;
        let mut bytes = Vec::with_capacity(d.size as usize);
        use std::io::Read as _;
        resp.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| unreachable(&self.url(&path), e.to_string()))?;
        let got = format!("sha256:{}", sha256_hex(&bytes));
        if got != d.digest || bytes.len() as u64 != d.size {
            return Err(RepoError::User(format!(
                "{}/{repository}: the blob {} arrived with digest {got} and {} bytes: refusing it",
                self.host,
                d.digest,
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// Uploads a blob unless the registry has it (monolithic upload: POST, then PUT with
    /// the digest).
    pub fn put_blob(
        &self,
        repository: &str,
        bytes: &[u8],
        d: &Descriptor,
    ) -> Result<(), RepoError> {
        let head = self.send(
            Method::HEAD,
            &format!("/v2/{repository}/blobs/{}", d.digest),
            &|r| r,
        )?;
        if head.status().is_success() {
            return Ok(());
        }
        let start = self.send(
            Method::POST,
            &format!("/v2/{repository}/blobs/uploads/"),
            &|r| r.header("Content-Length", "0"),
        )?;
        let start = Self::check(
            start,
            &format!("{}/{repository}: starting an upload", self.host),
        )?;
        let location = start
            .headers()
            .get("Location")
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| {
                unreachable(
                    &self.url(&format!("/v2/{repository}/blobs/uploads/")),
                    "the registry gave no upload location",
                )
            })?
            .to_owned();
        let sep = if location.contains('?') { '&' } else { '?' };
        let target = format!("{location}{sep}digest={}", d.digest.replace(':', "%3A"));
        // Shared, not copied, by each attempt (a challenge makes two).
        let body = bytes::Bytes::copy_from_slice(bytes);
        let done = self.send(Method::PUT, &target, &|r| {
            r.header("Content-Type", "application/octet-stream")
                .body(body.clone())
        })?;
        Self::check(
            done,
            &format!("{}/{repository}: uploading {}", self.host, d.digest),
        )
        .map(|_| ())
    }

    /// Stores a manifest under `tag`; the digest the registry reports (or its own).
    pub fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, RepoError> {
        let body = bytes::Bytes::copy_from_slice(bytes);
        let resp = self.send(
            Method::PUT,
            &format!("/v2/{repository}/manifests/{tag}"),
            &|r| r.header("Content-Type", media_type).body(body.clone()),
        )?;
        let resp = Self::check(resp, &format!("{}/{repository}:{tag}", self.host))?;
        let own = format!("sha256:{}", sha256_hex(bytes));
        let reported = resp
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|d| d.to_str().ok())
            .map(str::to_owned);
        Ok(reported.unwrap_or(own))
    }
}

/// A transport error with its causes (reqwest's own text stops at "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_commas_inside_quotes() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example/token"));
        assert_eq!(c.param("service"), Some("registry.example"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        let b = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(b.scheme, "Basic");
        assert_eq!(b.param("realm"), Some("Registry Realm"));
        assert_eq!(parse_challenge("").params, vec![]);
    }

    /// A registry that wants a Bearer token from its realm, which grants one for Basic
    /// credentials: each request's first line and Authorization header are recorded.
    fn token_registry() -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let (log, realm) = (seen.clone(), format!("http://{host}/token"));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("authorization: ") {
                        auth = v.trim().to_owned();
                    }
                }
                let path = first
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                log.lock().unwrap().push(format!("{path} [{auth}]"));
                let (status, extra, body) = if path.starts_with("/token") {
                    if auth == "Basic YW5uOnB3" {
                        ("200 OK", String::new(), r#"{"token":"t0k"}"#.to_owned())
                    } else {
                        ("401 Unauthorized", String::new(), String::new())
                    }
                } else if auth == "Bearer t0k" {
                    ("200 OK", String::new(), r#"{"tags":["1.0.0"]}"#.to_owned())
                } else {
                    (
                        "401 Unauthorized",
                        format!(
                            "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"reg\",scope=\"repository:a/b:pull\"\r\n"
                        ),
                        String::new(),
                    )
                };
                let mut conn = conn;
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (host, seen)
    }

    #[test]
    fn bearer_challenges_are_answered_with_a_token_from_the_realm() {
        let (host, seen) = token_registry();
        let conn = |credential| Connection {
            host: host.clone(),
            plain_http: true,
            credential,
            ..Connection::default()
        };
        let client = Client::new(&conn(Some(Credential {
            username: "ann".into(),
            password: "pw".into(),
        })))
        .unwrap();
        assert_eq!(client.tags("a/b").unwrap(), ["1.0.0"]);
        // The token is reused: no second trip to the realm.
        assert_eq!(client.tags("a/b").unwrap(), ["1.0.0"]);
        let log = seen.lock().unwrap().clone();
        assert_eq!(
            log,
            [
                "/v2/a/b/tags/list []",
                "/token?service=reg&scope=repository%3Aa%2Fb%3Apull [Basic YW5uOnB3]",
                "/v2/a/b/tags/list [Bearer t0k]",
                "/v2/a/b/tags/list [Bearer t0k]",
            ]
        );
        // Wrong credentials: the realm refuses, and the error says what to do.
        let client = Client::new(&conn(Some(Credential {
            username: "ann".into(),
            password: "nope".into(),
        })))
        .unwrap();
        let e = client.tags("a/b").unwrap_err().to_string();
        assert!(
            e.contains("refused the credentials") && e.contains("pack registry login"),
            "{e}"
        );
    }

    #[test]
    fn registry_errors_read_well() {
        let m = error_message(
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#,
        );
        assert_eq!(m, "404 Not Found: MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, ""),
            "502 Bad Gateway"
        );
    }
}
