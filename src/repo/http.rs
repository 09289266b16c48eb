//! HTTP chart repositories on the client side, as Helm keeps them: `repositories.yaml` in
//! pack's config directory, each repository's `index.yaml` cached as `<name>-index.yaml`,
//! charts found by `repo/chart` and a version constraint, downloaded with the repository's
//! credentials (sent to another host only with `pass_credentials_all`).

use super::index::Index;
use crate::settings::Dirs;
use crate::value::emit::{EmitOptions, emit};
use crate::value::{Map, Value};
use crate::versions::{Constraints, compare, parse_version};
use std::path::{Path, PathBuf};

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The repository could not be reached or answered an error.
    #[error("looks like {url:?} is not a valid chart repository or cannot be reached: {message}")]
    Unreachable {
        /// What was fetched.
        url: String,
        /// Why.
        message: String,
    },
    /// An OCI registry could not be reached or answered an error.
    #[error("{url}: {message}")]
    Registry {
        /// What was asked for.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// A name or reference is wrong.
    #[error("{0}")]
    User(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// An HTTP client for repositories and registries: a 2-minute timeout, TLS checks unless
/// `insecure`, and the CAs of `ca_file` (PEM) trusted besides the system's.
pub(crate) fn client(
    insecure: bool,
    ca_file: &str,
) -> Result<reqwest::blocking::Client, RepoError> {
    let mut b = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .danger_accept_invalid_certs(insecure);
    if !ca_file.is_empty() {
        let pem = std::fs::read(ca_file).map_err(io(Path::new(ca_file)))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| RepoError::User(format!("CA file {ca_file}: {e}")))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build()
        .map_err(|e| RepoError::User(format!("HTTP client: {e}")))
}

/// One configured repository (Helm's `repositories.yaml` entry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repository {
    /// Its name (`bitnami`).
    pub name: String,
    /// Its URL.
    pub url: String,
    /// Basic-auth user.
    pub username: String,
    /// Basic-auth password.
    pub password: String,
    /// A CA bundle to trust.
    pub ca_file: String,
    /// Skip TLS verification.
    pub insecure_skip_tls_verify: bool,
    /// Send the credentials to chart URLs on other hosts too.
    pub pass_credentials_all: bool,
}

impl Repository {
    fn to_value(&self) -> Value {
        let mut m = Map::default();
        m.insert("name".into(), self.name.as_str().into());
        m.insert("url".into(), self.url.as_str().into());
        m.insert("username".into(), self.username.as_str().into());
        m.insert("password".into(), self.password.as_str().into());
        m.insert("caFile".into(), self.ca_file.as_str().into());
        m.insert("certFile".into(), "".into());
        m.insert("keyFile".into(), "".into());
        m.insert(
            "insecure_skip_tls_verify".into(),
            self.insecure_skip_tls_verify.into(),
        );
        m.insert(
            "pass_credentials_all".into(),
            self.pass_credentials_all.into(),
        );
        Value::Map(m)
    }

    fn from_value(v: &Value) -> Option<Repository> {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let b = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let r = Repository {
            name: s("name"),
            url: s("url"),
            username: s("username"),
            password: s("password"),
            ca_file: s("caFile"),
            insecure_skip_tls_verify: b("insecure_skip_tls_verify"),
            pass_credentials_all: b("pass_credentials_all"),
        };
        (!r.name.is_empty()).then_some(r)
    }

    pub(crate) fn client(&self) -> Result<reqwest::blocking::Client, RepoError> {
        client(self.insecure_skip_tls_verify, &self.ca_file)
    }

    /// GETs a URL, with this repository's credentials when `auth` says so.
    pub(crate) fn get(&self, url: &str, auth: bool) -> Result<Vec<u8>, RepoError> {
        let unreachable = |message: String| RepoError::Unreachable {
            url: url.to_owned(),
            message,
        };
        let mut req = self.client()?.get(url);
        if auth && !self.username.is_empty() {
            req = req.basic_auth(&self.username, Some(&self.password));
        }
        let resp = req.send().map_err(|e| unreachable(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(unreachable(format!("{url} answered {status}")));
        }
        resp.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| unreachable(e.to_string()))
    }

    /// The repository's index, fetched.
    pub fn fetch_index(&self) -> Result<(Index, Vec<u8>), RepoError> {
        let url = format!("{}/index.yaml", self.url.trim_end_matches('/'));
        let bytes = self.get(&url, true)?;
        let text = String::from_utf8_lossy(&bytes);
        let index = Index::parse(&text).map_err(|message| RepoError::Unreachable {
            url: url.clone(),
            message,
        })?;
        Ok((index, bytes))
    }
}

/// The configured repositories.
#[derive(Clone, Debug, Default)]
pub struct RepoFile {
    /// In the order added.
    pub repositories: Vec<Repository>,
}

impl RepoFile {
    /// Reads `repositories.yaml` (none yet: empty).
    pub fn load(path: &Path) -> Result<RepoFile, RepoError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RepoFile::default()),
            Err(e) => return Err(io(path)(e)),
        };
        let v = crate::value::yaml::from_str(&text, crate::value::yaml::Flavor::Yaml11)
            .map_err(|e| RepoError::User(format!("{}: {e}", path.display())))?;
        let repositories = v
            .get("repositories")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(Repository::from_value)
            .collect();
        Ok(RepoFile { repositories })
    }

    /// Writes it back (Helm's layout), atomically.
    pub fn save(&self, path: &Path) -> Result<(), RepoError> {
        let mut m = Map::default();
        m.insert("apiVersion".into(), "".into());
        m.insert(
            "generated".into(),
            super::index::now_rfc3339_nano().as_str().into(),
        );
        m.insert(
            "repositories".into(),
            Value::List(self.repositories.iter().map(Repository::to_value).collect()),
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        super::package::write_atomic(path, emit(&Value::Map(m), &EmitOptions::helm()).as_bytes())
            .map_err(|e| RepoError::User(e.to_string()))
    }

    /// The repository of this name.
    pub fn get(&self, name: &str) -> Option<&Repository> {
        self.repositories.iter().find(|r| r.name == name)
    }

    /// The repository with this URL (trailing slashes ignored).
    pub fn by_url(&self, url: &str) -> Option<&Repository> {
        let want = url.trim_end_matches('/');
        self.repositories
            .iter()
            .find(|r| r.url.trim_end_matches('/') == want)
    }
}

fn cache_file(dirs: &Dirs, name: &str) -> PathBuf {
    dirs.repository_cache().join(format!("{name}-index.yaml"))
}

/// `repo add`: checks the URL serves an index, caches it and records the repository. A name
/// already configured differently is refused unless `force`.
pub fn add(dirs: &Dirs, repo: Repository, force: bool) -> Result<(), RepoError> {
    if repo.name.is_empty() || repo.name.contains('/') {
        return Err(RepoError::User(format!(
            "repository name {:?} is invalid: use letters, digits, '-' and '.'",
            repo.name
        )));
    }
    let config = dirs.repository_config();
    let mut file = RepoFile::load(&config)?;
    if let Some(existing) = file.get(&repo.name) {
        if *existing == repo {
            return Ok(());
        }
        if !force {
            return Err(RepoError::User(format!(
                "repository name ({}) already exists, please specify a different name (or --force-update)",
                repo.name
            )));
        }
    }
    let (_, bytes) = repo.fetch_index()?;
    let cache = cache_file(dirs, &repo.name);
    std::fs::create_dir_all(dirs.repository_cache()).map_err(io(&dirs.repository_cache()))?;
    super::package::write_atomic(&cache, &bytes).map_err(|e| RepoError::User(e.to_string()))?;
    file.repositories.retain(|r| r.name != repo.name);
    file.repositories.push(repo);
    file.save(&config)
}

/// `repo remove`: forgets repositories and their cached indexes.
pub fn remove(dirs: &Dirs, names: &[String]) -> Result<(), RepoError> {
    let config = dirs.repository_config();
    let mut file = RepoFile::load(&config)?;
    for n in names {
        if file.get(n).is_none() {
            return Err(RepoError::User(format!("no repo named {n:?} found")));
        }
        file.repositories.retain(|r| &r.name != n);
        let _ = std::fs::remove_file(cache_file(dirs, n));
    }
    file.save(&config)
}

/// What updating one repository gave: its name and the outcome.
pub type Updated = (String, Result<(), RepoError>);

/// `repo update`: refetches the indexes (all, or those named); the result per repository.
pub fn update(dirs: &Dirs, names: &[String]) -> Result<Vec<Updated>, RepoError> {
    let file = RepoFile::load(&dirs.repository_config())?;
    for n in names {
        if file.get(n).is_none() {
            return Err(RepoError::User(format!(
                "no repositories found matching {n:?}"
            )));
        }
    }
    std::fs::create_dir_all(dirs.repository_cache()).map_err(io(&dirs.repository_cache()))?;
    Ok(file
        .repositories
        .iter()
        .filter(|r| names.is_empty() || names.contains(&r.name))
        .map(|r| (r.name.clone(), refresh(dirs, r).map(|_| ())))
        .collect())
}

/// Fetches a repository's index; a configured (named) repository's is also cached.
pub fn refresh(dirs: &Dirs, repo: &Repository) -> Result<Index, RepoError> {
    let (index, bytes) = repo.fetch_index()?;
    if !repo.name.is_empty() {
        std::fs::create_dir_all(dirs.repository_cache()).map_err(io(&dirs.repository_cache()))?;
        super::package::write_atomic(&cache_file(dirs, &repo.name), &bytes)
            .map_err(|e| RepoError::User(e.to_string()))?;
    }
    Ok(index)
}

/// A cached index.
pub fn cached_index(dirs: &Dirs, name: &str) -> Result<Index, RepoError> {
    let path = cache_file(dirs, name);
    if !path.exists() {
        return Err(RepoError::User(format!(
            "no cached index for repository {name:?}: run `pack repo update {name}`"
        )));
    }
    Index::read(&path).map_err(|e| RepoError::User(e.to_string()))
}

fn version_of(e: &Map) -> &str {
    e.get("version").and_then(Value::as_str).unwrap_or("")
}

/// The version of a chart an index offers for a constraint: an exact version first, else
/// the highest match (stable versions only when the constraint is empty, like Helm).
pub fn select<'a>(versions: &'a [Map], constraint: &str) -> Option<&'a Map> {
    let names: Vec<&str> = versions.iter().map(version_of).collect();
    pick_version(&names, constraint).map(|i| &versions[i])
}

/// Which of `versions` a constraint picks (its index): an exact match first, else the
/// highest version matching (stable versions only when the constraint is empty).
pub fn pick_version(versions: &[&str], constraint: &str) -> Option<usize> {
    if let Some(exact) = versions.iter().position(|v| *v == constraint) {
        return Some(exact);
    }
    let c = Constraints::parse(if constraint.is_empty() {
        "*"
    } else {
        constraint
    })
    .ok()?;
    versions
        .iter()
        .enumerate()
        // Reversed so that of equal versions the first listed wins (max_by keeps the last).
        .rev()
        .filter_map(|(i, v)| {
            parse_version(v)
                .ok()
                .filter(|v| c.matches(v))
                .map(|v| (i, v))
        })
        .max_by(|(_, a), (_, b)| compare(a, b))
        .map(|(i, _)| i)
}

/// One `search repo` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// `repo/chart`.
    pub name: String,
    /// The chart version.
    pub version: String,
    /// Its appVersion.
    pub app_version: String,
    /// Its description.
    pub description: String,
}

/// `search repo`: charts whose name, description or keywords contain `keyword` (case
/// insensitive; all when empty); the newest matching version of each, or every version.
pub fn search(
    dirs: &Dirs,
    keyword: &str,
    all_versions: bool,
    constraint: &str,
) -> Result<Vec<Found>, RepoError> {
    let file = RepoFile::load(&dirs.repository_config())?;
    let kw = keyword.to_lowercase();
    let mut out = Vec::new();
    for r in &file.repositories {
        let Ok(index) = cached_index(dirs, &r.name) else {
            continue;
        };
        for (chart, versions) in &index.entries {
            let full = format!("{}/{chart}", r.name);
            let row = |e: &Map| Found {
                name: full.clone(),
                version: version_of(e).to_owned(),
                app_version: e
                    .get("appVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                description: e
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            };
            let hit = |e: &Map| {
                kw.is_empty()
                    || full.to_lowercase().contains(&kw)
                    || row(e).description.to_lowercase().contains(&kw)
                    || e.get("keywords").and_then(Value::as_list).is_some_and(|k| {
                        k.iter()
                            .filter_map(Value::as_str)
                            .any(|k| k.to_lowercase().contains(&kw))
                    })
            };
            if all_versions {
                let c = Constraints::parse(if constraint.is_empty() {
                    "*"
                } else {
                    constraint
                })
                .ok();
                out.extend(
                    versions
                        .iter()
                        .filter(|e| hit(e))
                        .filter(|e| {
                            constraint.is_empty()
                                || c.as_ref().is_some_and(|c| {
                                    parse_version(version_of(e)).is_ok_and(|v| c.matches(&v))
                                })
                        })
                        .map(row),
                );
            } else if let Some(e) = select(versions, constraint)
                && hit(e)
            {
                out.push(row(e));
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A chart archive fetched from a repository.
#[derive(Debug)]
pub struct Fetched {
    /// The archive.
    pub bytes: Vec<u8>,
    /// Its file name (`<chart>-<version>.tgz` as the URL names it).
    pub file_name: String,
    /// For a chart from an OCI registry: the reference pulled (with its tag) and the
    /// manifest's digest, which Helm prints.
    pub pulled_from: Option<(String, String)>,
    /// Its provenance file, when asked for ([`Lookup::provenance`]) and the source has one.
    pub provenance: Option<Vec<u8>>,
}

/// Fetches the version of `chart` that `index` (of `repo`) offers for `constraint`,
/// checking the archive against the index's digest.
pub fn fetch_chart(
    repo: &Repository,
    index: &Index,
    chart: &str,
    constraint: &str,
    with_provenance: bool,
) -> Result<Fetched, RepoError> {
    let where_ = if repo.name.is_empty() {
        repo.url.clone()
    } else {
        format!("repository {}", repo.name)
    };
    let versions = index
        .entries
        .get(chart)
        .ok_or_else(|| RepoError::User(format!("chart {chart:?} not found in {where_}")))?;
    let entry = select(versions, constraint).ok_or_else(|| {
        RepoError::User(format!(
            "chart {chart:?} matching {:?} not found in {where_}",
            if constraint.is_empty() {
                "the latest stable version"
            } else {
                constraint
            }
        ))
    })?;
    let url = entry
        .get("urls")
        .and_then(Value::as_list)
        .and_then(|u| u.first())
        .and_then(Value::as_str)
        .ok_or_else(|| RepoError::User(format!("chart {chart:?} has no download URL")))?;
    let absolute = if url.contains("://") {
        url.to_owned()
    } else {
        format!(
            "{}/{}",
            repo.url.trim_end_matches('/'),
            url.trim_start_matches('/')
        )
    };
    let same_host = host(&absolute) == host(&repo.url);
    let bytes = repo.get(&absolute, same_host || repo.pass_credentials_all)?;
    let file_name = archive_name_of(&absolute).map_or_else(
        || format!("{chart}-{}.tgz", version_of(entry)),
        str::to_owned,
    );
    if let Some(digest) = entry.get("digest").and_then(Value::as_str)
        && !digest.is_empty()
        && super::package::sha256_hex(&bytes) != digest
    {
        return Err(RepoError::User(format!(
            "{absolute}: the archive's digest does not match the index ({digest}): refusing it"
        )));
    }
    let provenance = if with_provenance {
        let prov_url = match absolute.split_once('?') {
            Some((path, query)) => format!("{path}.prov?{query}"),
            None => format!("{absolute}.prov"),
        };
        Some(repo.get(&prov_url, same_host || repo.pass_credentials_all)?)
    } else {
        None
    };
    Ok(Fetched {
        bytes,
        file_name,
        pulled_from: None,
        provenance,
    })
}

/// The archive file name at the end of a URL (query and fragment left out), when it is
/// one an archive may be saved under.
fn archive_name_of(url: &str) -> Option<&str> {
    url.split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| safe_archive_name(n))
}

/// The host (and port) of a URL.
fn host(u: &str) -> Option<String> {
    u.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .map(str::to_owned)
}

/// A file name an archive may be saved under: no directories, no dot files.
pub fn safe_archive_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
        && name.ends_with(".tgz")
}

/// Fetches a chart archive by URL (`https://host/path/chart-1.0.0.tgz`); the bytes and the
/// file name.
pub fn fetch_url(url: &str) -> Result<(Vec<u8>, String), RepoError> {
    let repo = Repository {
        url: url.to_owned(),
        ..Repository::default()
    };
    let bytes = repo.get(url, false)?;
    Ok((
        bytes,
        archive_name_of(url).unwrap_or("chart.tgz").to_owned(),
    ))
}

/// How a chart reference is looked up: `--version`, `--devel`, `--repo URL` and its
/// credentials.
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    /// A version constraint (empty: the latest stable version).
    pub version: String,
    /// Pre-releases count too when no version is given.
    pub devel: bool,
    /// A repository URL to find the chart in, instead of an added repository.
    pub repo_url: String,
    /// Basic-auth user for `repo_url`.
    pub username: String,
    /// Basic-auth password for `repo_url`.
    pub password: String,
    /// A CA bundle for `repo_url`.
    pub ca_file: String,
    /// Skip TLS checks for `repo_url`.
    pub insecure_skip_tls_verify: bool,
    /// Send `repo_url`'s credentials to chart URLs on other hosts.
    pub pass_credentials: bool,
    /// Speak HTTP to an OCI registry.
    pub plain_http: bool,
    /// Fetch the chart's provenance file too (to verify it).
    pub provenance: bool,
}

impl Lookup {
    fn constraint(&self) -> &str {
        if self.version.is_empty() && self.devel {
            ">0.0.0-0"
        } else {
            &self.version
        }
    }
}

/// Fetches the archive a chart argument names, when it names a remote one: a chart in
/// `lookup.repo_url`, a chart URL (`https://…/chart-1.0.0.tgz`), or `REPO/CHART` of an
/// added repository. `None` when it is a local path (existing, or not remote-looking).
/// The bytes are not yet checked: load them with the safe archive loader (as rendering
/// does) before saving or unpacking them.
pub fn fetch_reference(
    dirs: &Dirs,
    reference: &str,
    lookup: &Lookup,
) -> Result<Option<Fetched>, RepoError> {
    if !lookup.repo_url.is_empty() {
        let file = RepoFile::load(&dirs.repository_config())?;
        let mut repo = file
            .by_url(&lookup.repo_url)
            .cloned()
            .unwrap_or_else(|| Repository {
                url: lookup.repo_url.trim_end_matches('/').to_owned(),
                ..Repository::default()
            });
        if !lookup.username.is_empty() {
            repo.username = lookup.username.clone();
            repo.password = lookup.password.clone();
        }
        if !lookup.ca_file.is_empty() {
            repo.ca_file = lookup.ca_file.clone();
        }
        repo.insecure_skip_tls_verify |= lookup.insecure_skip_tls_verify;
        repo.pass_credentials_all |= lookup.pass_credentials;
        let (index, _) = repo.fetch_index()?;
        return fetch_chart(
            &repo,
            &index,
            reference,
            lookup.constraint(),
            lookup.provenance,
        )
        .map(Some);
    }
    if reference.starts_with("https://") || reference.starts_with("http://") {
        let (bytes, file_name) = fetch_url(reference)?;
        let provenance = if lookup.provenance {
            Some(fetch_url(&format!("{reference}.prov"))?.0)
        } else {
            None
        };
        return Ok(Some(Fetched {
            bytes,
            file_name,
            pulled_from: None,
            provenance,
        }));
    }
    if reference.starts_with("oci://") {
        let opts = super::oci::Options {
            plain_http: lookup.plain_http,
            insecure_skip_tls_verify: lookup.insecure_skip_tls_verify,
            ca_file: lookup.ca_file.clone(),
            username: lookup.username.clone(),
            password: lookup.password.clone(),
        };
        let p = super::oci::pull(
            dirs,
            reference,
            lookup.constraint(),
            lookup.provenance,
            &opts,
        )?;
        return Ok(Some(Fetched {
            bytes: p.archive,
            file_name: p.file_name,
            pulled_from: Some((p.reference, p.digest)),
            provenance: p.provenance,
        }));
    }
    if Path::new(reference).exists() || reference.starts_with('.') || reference.starts_with('/') {
        return Ok(None);
    }
    let Some((repo_name, chart)) = reference.split_once('/') else {
        return Ok(None);
    };
    let file = RepoFile::load(&dirs.repository_config())?;
    let Some(repo) = file.get(repo_name) else {
        return Ok(None);
    };
    let index = cached_index(dirs, repo_name)?;
    fetch_chart(repo, &index, chart, lookup.constraint(), lookup.provenance).map(Some)
}

/// `push`: uploads an archive (and its `.prov` beside it, if any) to a
/// ChartMuseum-compatible repository (`POST /api/charts`); the archive's digest when the
/// server stored it.
pub fn push(
    archive: &Path,
    url: &str,
    username: &str,
    password: &str,
    force: bool,
    insecure_skip_tls_verify: bool,
) -> Result<String, RepoError> {
    let bytes = std::fs::read(archive).map_err(io(archive))?;
    crate::chart::load_archive_bytes(&bytes, &archive.display().to_string())
        .map_err(|e| RepoError::User(format!("{}: not a chart archive: {e}", archive.display())))?;
    let repo = Repository {
        url: url.to_owned(),
        username: username.to_owned(),
        password: password.to_owned(),
        insecure_skip_tls_verify,
        ..Repository::default()
    };
    let endpoint = format!(
        "{}/api/charts{}",
        url.trim_end_matches('/'),
        if force { "?force" } else { "" }
    );
    // With a provenance file beside the archive, both go up in one multipart form, as
    // ChartMuseum's `chart` and `prov` fields.
    let prov_path = PathBuf::from(format!("{}.prov", archive.display()));
    let (content_type, body) = match std::fs::read(&prov_path) {
        Ok(prov) => {
            let boundary = format!("pack-{}", &super::package::sha256_hex(&bytes)[..24]);
            let file = archive
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "chart.tgz".into());
            let mut body = Vec::with_capacity(bytes.len() + prov.len() + 512);
            for (field, name, data) in [
                ("chart", file.clone(), &bytes),
                ("prov", format!("{file}.prov"), &prov),
            ] {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            (format!("multipart/form-data; boundary={boundary}"), body)
        }
        Err(_) => ("application/gzip".to_owned(), bytes.clone()),
    };
    let mut req = repo
        .client()?
        .post(&endpoint)
        .header("Content-Type", content_type)
        .body(body);
    if !username.is_empty() {
        req = req.basic_auth(username, Some(password));
    }
    let resp = req.send().map_err(|e| RepoError::Unreachable {
        url: endpoint.clone(),
        message: e.to_string(),
    })?;
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    match status.as_u16() {
        200 | 201 => Ok(super::package::sha256_hex(&bytes)),
        401 | 403 => Err(RepoError::User(format!(
            "{endpoint}: {status}: the repository needs credentials (--username/--password)"
        ))),
        409 => Err(RepoError::User(format!(
            "{endpoint}: this chart version is already in the repository (--force replaces it)"
        ))),
        _ => Err(RepoError::User(format!(
            "{endpoint}: {status}: {}",
            body.trim()
        ))),
    }
}
