//! Registry credentials kept like Docker's `config.json` (`{"auths": {"host": {"auth":
//! base64("user:password")}}}`), the file `pack registry login` writes and `helm registry
//! login` writes too.

use crate::funcs::encoding::{base64_decode, base64_encode};
use crate::repo::http::{RepoError, io};
use std::path::Path;

/// A user name and password for one registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credential {
    /// The user.
    pub username: String,
    /// The password or token.
    pub password: String,
}

/// Docker's own `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker"))
        })?;
    Some(dir.join("config.json"))
}

/// The credential for `host` from pack's file, else from Docker's (`docker login` users
/// need no second login, as with helm). An unreadable Docker file is ignored: it is not
/// pack's.
pub fn lookup(
    own: &Path,
    docker: Option<&Path>,
    host: &str,
) -> Result<Option<Credential>, RepoError> {
    if let Some(c) = get(own, host)? {
        return Ok(Some(c));
    }
    Ok(docker.and_then(|d| get(d, host).ok().flatten()))
}

fn read(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, RepoError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(io(path)(e)),
    };
    if text.trim().is_empty() {
        return Ok(Default::default());
    }
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(RepoError::User(format!(
            "{}: expected a JSON object with \"auths\"",
            path.display()
        ))),
        Err(e) => Err(RepoError::User(format!(
            "{}: not valid JSON ({e}): fix or delete it, then log in again",
            path.display()
        ))),
    }
}

/// The key a host's entry may be stored under: `host`, or Docker's older `https://host/…`.
fn same_host(key: &str, host: &str) -> bool {
    let bare = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    bare.split('/').next() == Some(host)
}

/// The stored credential for `host` (`registry.example.com:5000`), if any.
pub fn get(path: &Path, host: &str) -> Result<Option<Credential>, RepoError> {
    let file = read(path)?;
    let Some(auths) = file.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    let Some(entry) = auths
        .get(host)
        .or_else(|| auths.iter().find(|(k, _)| same_host(k, host)).map(|e| e.1))
    else {
        return Ok(None);
    };
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str())
        && !auth.is_empty()
    {
        let decoded = base64_decode(auth.as_bytes()).map_err(|e| {
            RepoError::User(format!(
                "{}: the credential for {host} is not base64 ({e}): log in again",
                path.display()
            ))
        })?;
        let text = String::from_utf8_lossy(&decoded);
        let (u, p) = text.split_once(':').ok_or_else(|| {
            RepoError::User(format!(
                "{}: the credential for {host} is not \"user:password\": log in again",
                path.display()
            ))
        })?;
        return Ok(Some(Credential {
            username: u.to_owned(),
            password: p.to_owned(),
        }));
    }
    let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    if !field("username").is_empty() {
        return Ok(Some(Credential {
            username: field("username").to_owned(),
            password: field("password").to_owned(),
        }));
    }
    Ok(None)
}

/// Records `credential` for `host`, keeping every other entry and field of the file; the
/// file is written atomically and readable by its owner only.
pub fn store(path: &Path, host: &str, credential: &Credential) -> Result<(), RepoError> {
    let mut file = read(path)?;
    let auths = file
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let Some(auths) = auths.as_object_mut() else {
        return Err(RepoError::User(format!(
            "{}: \"auths\" is not an object",
            path.display()
        )));
    };
    let auth = base64_encode(format!("{}:{}", credential.username, credential.password).as_bytes());
    auths.insert(host.to_owned(), serde_json::json!({ "auth": auth }));
    write(path, &file)
}

/// Forgets `host`'s credential; false when there was none.
pub fn remove(path: &Path, host: &str) -> Result<bool, RepoError> {
    let mut file = read(path)?;
    let Some(auths) = file.get_mut("auths").and_then(|a| a.as_object_mut()) else {
        return Ok(false);
    };
    let keys: Vec<String> = auths
        .keys()
        .filter(|k| *k == host || same_host(k, host))
        .cloned()
        .collect();
    if keys.is_empty() {
        return Ok(false);
    }
    for k in keys {
        auths.remove(&k);
    }
    write(path, &file)?;
    Ok(true)
}

fn write(path: &Path, file: &serde_json::Map<String, serde_json::Value>) -> Result<(), RepoError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut text = serde_json::to_string_pretty(file)
        .map_err(|e| RepoError::User(format!("{}: {e}", path.display())))?;
    text.push('\n');
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_get_remove_keep_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry/config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}},"credsStore":"x"}"#,
        )
        .unwrap();
        let c = Credential {
            username: "u".into(),
            password: "p:w".into(),
        };
        store(&path, "localhost:5000", &c).unwrap();
        assert_eq!(get(&path, "localhost:5000").unwrap(), Some(c));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"credsStore\": \"x\""), "{text}");
        assert!(text.contains("\"auth\": \"dTpwOnc=\""), "{text}");
        // Docker's URL-style key is found by host.
        let hub = get(&path, "index.docker.io").unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.password.as_str()), ("a", "b"));
        assert!(remove(&path, "localhost:5000").unwrap());
        assert!(!remove(&path, "localhost:5000").unwrap());
        assert_eq!(get(&path, "localhost:5000").unwrap(), None);
        assert!(get(&path, "index.docker.io").unwrap().is_some());
    }

    #[test]
    fn docker_credentials_are_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("pack.json");
        let docker = dir.path().join("docker.json");
        std::fs::write(
            &docker,
            r#"{"auths":{"ghcr.io":{"auth":"ZDpw"},"h":{"auth":"ZDpw"}}}"#,
        )
        .unwrap();
        std::fs::write(&own, r#"{"auths":{"h":{"auth":"cDpw"}}}"#).unwrap();
        let user = |host| {
            lookup(&own, Some(&docker), host)
                .unwrap()
                .map(|c| c.username)
        };
        assert_eq!(user("ghcr.io").as_deref(), Some("d"), "from Docker's file");
        assert_eq!(user("h").as_deref(), Some("p"), "pack's own wins");
        assert_eq!(user("other"), None);
        // A broken Docker file is not pack's to complain about.
        std::fs::write(&docker, "{nope").unwrap();
        assert_eq!(user("ghcr.io"), None);
    }

    #[test]
    fn broken_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        assert_eq!(get(&path, "h").unwrap(), None);
        std::fs::write(&path, "{nope").unwrap();
        let e = get(&path, "h").unwrap_err().to_string();
        assert!(e.contains("config.json: not valid JSON"), "{e}");
        std::fs::write(&path, r#"{"auths":{"h":{"auth":"!!"}}}"#).unwrap();
        let e = get(&path, "h").unwrap_err().to_string();
        assert!(e.contains("not base64"), "{e}");
    }
}
