//! `dependency update|build`: resolves Chart.yaml's dependencies against chart repositories
//! (configured names, `@name`/`alias:name`, plain URLs) and `file://` directories, fills
//! `charts/` with their archives and keeps `Chart.lock` with Helm's digest, so a lock
//! written by either tool is accepted by the other.

use super::http::{self, RepoError, RepoFile, Repository};
use super::index::{Index, now_rfc3339_nano};
use super::package::{archive_bytes, sha256_hex, write_atomic};
use crate::chart::{self, Dependency};
use crate::settings::Dirs;
use crate::value::emit::{EmitOptions, emit};
use crate::value::{Map, Value};
use crate::versions::{Constraints, parse_version};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why dependencies could not be updated or built.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// The chart (or a `file://` dependency) does not load.
    #[error("{0}")]
    Load(String),
    /// A repository operation failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Something the user must fix in Chart.yaml, Chart.lock or the repositories.
    #[error("{0}")]
    User(String),
    /// A file could not be written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// One resolved dependency of `Chart.lock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locked {
    /// The chart's name.
    pub name: String,
    /// Where it comes from (a URL, `file://…`, or empty when vendored).
    pub repository: String,
    /// The exact version chosen.
    pub version: String,
}

/// `Chart.lock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    /// The resolved dependencies, in Chart.yaml's order.
    pub dependencies: Vec<Locked>,
    /// `sha256:` of Chart.yaml's dependencies and these, as Helm computes it.
    pub digest: String,
    /// When it was written (RFC 3339).
    pub generated: String,
}

impl Lock {
    /// Reads a lock from its parsed YAML.
    pub fn from_value(v: &Value) -> Lock {
        let s = |m: &Value, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Lock {
            dependencies: v
                .get("dependencies")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .map(|d| Locked {
                    name: s(d, "name"),
                    repository: s(d, "repository"),
                    version: s(d, "version"),
                })
                .collect(),
            digest: s(v, "digest"),
            generated: s(v, "generated"),
        }
    }

    /// The lock as Helm writes it (keys sorted, `repository` always present).
    pub fn to_yaml(&self) -> String {
        let deps = self
            .dependencies
            .iter()
            .map(|d| {
                let mut m = Map::default();
                m.insert("name".into(), d.name.as_str().into());
                m.insert("repository".into(), d.repository.as_str().into());
                if !d.version.is_empty() {
                    m.insert("version".into(), d.version.as_str().into());
                }
                Value::Map(m)
            })
            .collect();
        let mut top = Map::default();
        top.insert("dependencies".into(), Value::List(deps));
        top.insert("digest".into(), self.digest.as_str().into());
        top.insert("generated".into(), self.generated.as_str().into());
        emit(&Value::Map(top), &EmitOptions::helm())
    }
}

/// Helm's lock digest: `sha256:` of the Go JSON of `[Chart.yaml dependencies, locked]`,
/// each dependency written as Go writes Helm's `Dependency` struct (field order, empty
/// fields left out, `<`, `>` and `&` escaped).
pub fn digest(requested: &[Dependency], locked: &[Locked]) -> String {
    let locked: Vec<Dependency> = locked
        .iter()
        .map(|l| Dependency {
            name: l.name.clone(),
            version: l.version.clone(),
            repository: l.repository.clone(),
            ..Dependency::default()
        })
        .collect();
    let list = |deps: &[Dependency]| {
        let items: Vec<String> = deps.iter().map(go_dependency_json).collect();
        format!("[{}]", items.join(","))
    };
    let text = format!("[{},{}]", list(requested), list(&locked));
    format!("sha256:{}", sha256_hex(text.as_bytes()))
}

/// One dependency as Go's `encoding/json` writes Helm's `Dependency`: `name`, `version`,
/// `repository` (always), `condition`, `tags`, `import-values`, `alias`.
fn go_dependency_json(d: &Dependency) -> String {
    use crate::funcs::serial::{go_json, json_string};
    let mut out = String::from("{");
    let mut field = |key: &str, value: &str, always: bool| {
        if value.is_empty() && !always {
            return;
        }
        if out.len() > 1 {
            out.push(',');
        }
        json_string(&mut out, key, true);
        out.push(':');
        json_string(&mut out, value, true);
    };
    field("name", &d.name, true);
    field("version", &d.version, false);
    field("repository", &d.repository, true);
    field("condition", &d.condition, false);
    // Lists are written from the entry as Helm serialises it (the same shapes).
    let as_value = d.to_value();
    for key in ["tags", "import-values"] {
        if let Some(v) = as_value.get(key) {
            out.push_str(&format!(",\"{key}\":"));
            out.push_str(&go_json(v, true, None).unwrap_or_default());
        }
    }
    if !d.alias.is_empty() {
        out.push_str(",\"alias\":");
        json_string(&mut out, &d.alias, true);
    }
    out.push('}');
    out
}

/// How to run: the user's directories, whether to refetch repository indexes, and where
/// progress lines go.
pub struct Options<'a> {
    /// pack's config and cache directories (repositories and their indexes).
    pub dirs: &'a Dirs,
    /// Use the cached indexes of configured repositories instead of fetching them.
    pub skip_refresh: bool,
    /// Receives progress lines (`Saving 2 charts`, `Downloading …`).
    pub progress: &'a mut dyn FnMut(&str),
    /// How to reach `oci://` repositories (`--plain-http`, TLS; credentials are those of
    /// `registry login`).
    pub oci: super::oci::Options,
    /// `--verify`: the keyring every downloaded chart's provenance file must check against.
    pub verify: Option<PathBuf>,
}

/// Where one dependency's archive comes from.
enum Source {
    /// Vendored in `charts/` (empty repository): checked, not fetched.
    Vendored,
    /// A `file://` directory, loaded once and packaged.
    Local(Box<chart::Chart>),
    /// A chart repository (configured or given by URL).
    Remote(Repository),
    /// An OCI registry path (`oci://host/path`; the chart is `<path>/<name>`).
    Oci(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DependencyError + '_ {
    move |e| DependencyError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The directory a `file://` repository names, relative to the chart.
fn local_path(repository: &str, chart_dir: &Path) -> Result<PathBuf, DependencyError> {
    let rel = repository.trim_start_matches("file://");
    let path = if Path::new(rel).is_absolute() {
        PathBuf::from(rel)
    } else {
        chart_dir.join(rel)
    };
    if !path.exists() {
        return Err(DependencyError::User(format!(
            "dependency repository {repository}: directory {} not found",
            path.display()
        )));
    }
    Ok(path)
}

/// Maps each dependency to its source; `@name` and `alias:name` repositories are replaced
/// by their URLs in `deps` (as Helm does before computing the digest).
fn sources(
    deps: &mut [Dependency],
    chart_dir: &Path,
    dirs: &Dirs,
) -> Result<Vec<Source>, DependencyError> {
    let file = RepoFile::load(&dirs.repository_config())?;
    let mut out = Vec::with_capacity(deps.len());
    let mut missing = Vec::new();
    for d in deps.iter_mut() {
        let repo = d.repository.trim();
        if repo.is_empty() {
            out.push(Source::Vendored);
        } else if repo.starts_with("file://") {
            out.push(Source::Local(Box::new(load_dir(&local_path(
                repo, chart_dir,
            )?)?)));
        } else if repo.starts_with("oci://") {
            let url = repo.trim_end_matches('/').to_owned();
            // Checked now, so a typo fails before anything is fetched.
            super::oci::Reference::parse(&format!("{url}/{}", d.name))?;
            out.push(Source::Oci(url));
        } else if let Some(name) = repo
            .strip_prefix('@')
            .or_else(|| repo.strip_prefix("alias:"))
        {
            match file.get(name) {
                Some(r) => {
                    d.repository = r.url.clone();
                    out.push(Source::Remote(r.clone()));
                }
                None => {
                    missing.push(repo.to_owned());
                    out.push(Source::Vendored);
                }
            }
        } else if let Some(r) = file.by_url(repo) {
            out.push(Source::Remote(r.clone()));
        } else if repo.starts_with("http://") || repo.starts_with("https://") {
            out.push(Source::Remote(Repository {
                url: repo.trim_end_matches('/').to_owned(),
                ..Repository::default()
            }));
        } else {
            missing.push(repo.to_owned());
            out.push(Source::Vendored);
        }
    }
    if !missing.is_empty() {
        return Err(DependencyError::User(format!(
            "no repository definition for {}: add them with `pack repo add NAME URL`, or write the repository's URL in Chart.yaml",
            missing.join(", ")
        )));
    }
    Ok(out)
}

/// A registry has no index: the tags of each `oci://` dependency's chart stand in for its
/// entries, added to `out` under the registry path.
fn oci_tags(
    deps: &[Dependency],
    sources: &[Source],
    opts: &Options<'_>,
    out: &mut BTreeMap<String, Index>,
) -> Result<(), DependencyError> {
    for (d, s) in deps.iter().zip(sources) {
        if let Source::Oci(url) = s {
            let versions =
                super::oci::versions(opts.dirs, &format!("{url}/{}", d.name), &opts.oci)?;
            let entries = versions
                .into_iter()
                .map(|v| {
                    let mut m = Map::default();
                    m.insert("version".into(), Value::from(v));
                    m
                })
                .collect();
            let index: &mut Index = out.entry(url.clone()).or_default();
            index.entries.insert(d.name.clone(), entries);
        }
    }
    Ok(())
}

/// The indexes the remote sources need: configured repositories from the cache (refetched
/// first unless `skip_refresh`), others fetched now. Keyed by URL.
fn indexes(
    sources: &[Source],
    opts: &mut Options<'_>,
) -> Result<BTreeMap<String, Index>, DependencyError> {
    let mut out = BTreeMap::new();
    let remotes: Vec<&Repository> = sources
        .iter()
        .filter_map(|s| match s {
            Source::Remote(r) => Some(r),
            _ => None,
        })
        .collect();
    if remotes.is_empty() {
        return Ok(out);
    }
    if !opts.skip_refresh {
        (opts.progress)("Hang tight while we grab the latest from your chart repositories...");
    }
    for r in remotes {
        if out.contains_key(&r.url) {
            continue;
        }
        let index = if r.name.is_empty() || !opts.skip_refresh {
            let index = http::refresh(opts.dirs, r)?;
            let label = if r.name.is_empty() { &r.url } else { &r.name };
            (opts.progress)(&format!(
                "...Successfully got an update from the \"{label}\" chart repository"
            ));
            index
        } else {
            http::cached_index(opts.dirs, &r.name)?
        };
        out.insert(r.url.clone(), index);
    }
    if !opts.skip_refresh {
        (opts.progress)("Update Complete. ⎈Happy Helming!⎈");
    }
    Ok(out)
}

fn load_dir(path: &Path) -> Result<chart::Chart, DependencyError> {
    chart::load(path).map_err(|e| DependencyError::Load(format!("{}: {e}", path.display())))
}

fn constraint_matches(constraint: &str, version: &str) -> Result<bool, DependencyError> {
    let c = Constraints::parse(if constraint.trim().is_empty() {
        "*"
    } else {
        constraint
    })
    .map_err(|e| {
        DependencyError::User(format!("invalid version constraint {constraint:?}: {e}"))
    })?;
    Ok(parse_version(version).is_ok_and(|v| c.matches(&v)))
}

/// Picks each dependency's version: the highest the repository offers within the
/// constraint, a `file://` chart's own version when it satisfies it, the constraint
/// itself for vendored charts.
fn resolve(
    deps: &[Dependency],
    sources: &[Source],
    indexes: &BTreeMap<String, Index>,
) -> Result<Vec<Locked>, DependencyError> {
    let mut locked = Vec::with_capacity(deps.len());
    let mut missing = Vec::new();
    for (d, s) in deps.iter().zip(sources) {
        let version = match s {
            Source::Vendored => Some(d.version.clone()),
            Source::Local(c) => constraint_matches(&d.version, &c.metadata.version)?
                .then(|| c.metadata.version.clone()),
            Source::Remote(Repository { url, .. }) | Source::Oci(url) => indexes
                .get(url)
                .and_then(|i| i.entries.get(&d.name))
                .and_then(|versions| http::select(versions, &d.version))
                .and_then(|e| e.get("version").and_then(Value::as_str))
                .map(str::to_owned),
        };
        match version {
            Some(version) => locked.push(Locked {
                name: d.name.clone(),
                repository: d.repository.clone(),
                version,
            }),
            None => missing.push(format!(
                "{:?} (repository {:?}, version {:?})",
                d.name, d.repository, d.version
            )),
        }
    }
    if !missing.is_empty() {
        return Err(DependencyError::User(format!(
            "can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repository, or change the version constraint in Chart.yaml",
            missing.len(),
            missing.join(", ")
        )));
    }
    Ok(locked)
}

/// Fetches (or packages) every locked dependency into a fresh directory beside `charts/`,
/// then swaps the archives into `charts/`, deleting chart archives no longer wanted. On any
/// failure `charts/` is left as it was.
fn download_all(
    chart_dir: &Path,
    locked: &[Locked],
    sources: &[Source],
    indexes: &BTreeMap<String, Index>,
    opts: &mut Options<'_>,
) -> Result<(), DependencyError> {
    let progress = &mut *opts.progress;
    let charts = chart_dir.join("charts");
    let fetched: Vec<(&Locked, &Source)> = locked
        .iter()
        .zip(sources)
        .filter(|(_, s)| !matches!(s, Source::Vendored))
        .collect();
    // Vendored dependencies must be in charts/ already, at a matching version.
    for (l, s) in locked.iter().zip(sources) {
        if matches!(s, Source::Vendored) {
            progress(&format!(
                "Dependency {} did not declare a repository. Assuming it exists in the charts directory",
                l.name
            ));
            let c = load_dir(&charts.join(&l.name))?;
            if !constraint_matches(&l.version, &c.metadata.version)? {
                return Err(DependencyError::User(format!(
                    "dependency {} at version {} does not satisfy the constraint {}",
                    l.name, c.metadata.version, l.version
                )));
            }
        }
    }
    progress(&format!("Saving {} charts", locked.len()));
    let mut new_files: Vec<(String, Vec<u8>)> = Vec::new();
    for (l, s) in fetched {
        let (file_name, bytes) = match s {
            Source::Local(c) => {
                let bytes =
                    archive_bytes(c, 0).map_err(|e| DependencyError::Load(e.to_string()))?;
                (format!("{}-{}.tgz", c.name(), c.metadata.version), bytes)
            }
            Source::Remote(r) => {
                progress(&format!(
                    "Downloading {} from repo {}",
                    l.name, l.repository
                ));
                let index = indexes.get(&r.url).ok_or_else(|| {
                    DependencyError::User(format!("no index for repository {}", r.url))
                })?;
                let with_prov = opts.verify.is_some();
                let got = http::fetch_chart(r, index, &l.name, &l.version, with_prov)?;
                let bytes = checked(l, &r.url, got.bytes)?;
                verified(l, &bytes, got.provenance.as_deref(), opts.verify.as_deref())?;
                (format!("{}-{}.tgz", l.name, l.version), bytes)
            }
            Source::Oci(url) => {
                progress(&format!(
                    "Downloading {} from repo {}",
                    l.name, l.repository
                ));
                let reference = format!("{url}/{}", l.name);
                let with_prov = opts.verify.is_some();
                let got =
                    super::oci::pull(opts.dirs, &reference, &l.version, with_prov, &opts.oci)?;
                progress(&format!(
                    "Pulled: {}\nDigest: {}",
                    got.reference, got.digest
                ));
                let bytes = checked(l, url, got.archive)?;
                verified(l, &bytes, got.provenance.as_deref(), opts.verify.as_deref())?;
                (format!("{}-{}.tgz", l.name, l.version), bytes)
            }
            Source::Vendored => continue,
        };
        if !http::safe_archive_name(&file_name) {
            return Err(DependencyError::User(format!(
                "dependency {}: {file_name:?} is not a usable file name",
                l.name
            )));
        }
        new_files.push((file_name, bytes));
    }
    std::fs::create_dir_all(&charts).map_err(io_err(&charts))?;
    let wanted: Vec<&str> = new_files.iter().map(|(n, _)| n.as_str()).collect();
    let mut outdated = Vec::new();
    for entry in std::fs::read_dir(&charts)
        .map_err(io_err(&charts))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !path.is_file() || !name.ends_with(".tgz") || wanted.contains(&name.as_str()) {
            continue;
        }
        // Only chart archives are removed; other files in charts/ are the user's.
        if std::fs::read(&path)
            .ok()
            .is_some_and(|b| chart::load_archive_bytes(&b, &name).is_ok())
        {
            outdated.push(path);
        }
    }
    for (name, bytes) in &new_files {
        let path = charts.join(name);
        write_atomic(&path, bytes).map_err(|e| DependencyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    }
    if !outdated.is_empty() {
        progress("Deleting outdated charts");
        for p in outdated {
            std::fs::remove_file(&p).map_err(io_err(&p))?;
        }
    }
    Ok(())
}

/// A downloaded dependency archive, checked to be the chart asked for: loadable by the
/// safe loader, with the name and version the lock names.
fn checked(l: &Locked, from: &str, bytes: Vec<u8>) -> Result<Vec<u8>, DependencyError> {
    let c = chart::load_archive_bytes(&bytes, &format!("{}-{}.tgz", l.name, l.version)).map_err(
        |e| {
            DependencyError::User(format!(
                "{} from {from}: not a usable chart archive: {e}",
                l.name
            ))
        },
    )?;
    if c.name() != l.name || c.metadata.version != l.version {
        return Err(DependencyError::User(format!(
            "{from} served {} {} for {} {}: refusing it",
            c.name(),
            c.metadata.version,
            l.name,
            l.version
        )));
    }
    Ok(bytes)
}

/// With `--verify` (a keyring), a downloaded dependency's provenance must check out.
fn verified(
    l: &Locked,
    archive: &[u8],
    provenance: Option<&[u8]>,
    keyring: Option<&Path>,
) -> Result<(), DependencyError> {
    let Some(keyring) = keyring else {
        return Ok(());
    };
    let name = format!("{}-{}.tgz", l.name, l.version);
    let prov = provenance.ok_or_else(|| {
        DependencyError::User(format!(
            "dependency {name}: its repository offers no provenance file, so --verify cannot check it"
        ))
    })?;
    super::provenance::verify(archive, &name, prov, keyring)
        .map(|_| ())
        .map_err(|e| DependencyError::User(format!("dependency {name}: {e}")))
}

/// What `update` or `build` did.
#[derive(Debug)]
pub struct Outcome {
    /// The lock in force afterwards.
    pub lock: Lock,
    /// Whether Chart.lock was (re)written.
    pub lock_written: bool,
}

fn lock_path(chart_dir: &Path, api_v1: bool) -> PathBuf {
    chart_dir.join(if api_v1 {
        "requirements.lock"
    } else {
        "Chart.lock"
    })
}

/// `dependency update`: resolves Chart.yaml's constraints afresh, downloads the charts into
/// `charts/` and writes `Chart.lock` when the resolution changed.
pub fn update(
    chart_dir: &Path,
    opts: &mut Options<'_>,
) -> Result<Option<Outcome>, DependencyError> {
    let chart = load_dir(chart_dir)?;
    let mut deps = chart.metadata.dependencies.clone();
    if deps.is_empty() {
        return Ok(None);
    }
    let sources = sources(&mut deps, chart_dir, opts.dirs)?;
    let mut indexes = indexes(&sources, opts)?;
    oci_tags(&deps, &sources, opts, &mut indexes)?;
    let locked = resolve(&deps, &sources, &indexes)?;
    let digest = digest(&deps, &locked);
    download_all(chart_dir, &locked, &sources, &indexes, opts)?;
    let old = chart.lock.as_ref().map(Lock::from_value);
    let lock = Lock {
        dependencies: locked,
        digest,
        generated: now_rfc3339_nano(),
    };
    if let Some(old) = old
        && old.digest == lock.digest
    {
        return Ok(Some(Outcome {
            lock: old,
            lock_written: false,
        }));
    }
    let path = lock_path(chart_dir, chart.metadata.api_version == "v1");
    write_atomic(&path, lock.to_yaml().as_bytes()).map_err(|e| DependencyError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(Some(Outcome {
        lock,
        lock_written: true,
    }))
}

/// `dependency build`: fetches exactly what `Chart.lock` names into `charts/`; without a
/// lock it is `update`. A lock out of step with Chart.yaml is refused.
pub fn build(chart_dir: &Path, opts: &mut Options<'_>) -> Result<Option<Outcome>, DependencyError> {
    let chart = load_dir(chart_dir)?;
    let Some(lock) = chart.lock.as_ref().map(Lock::from_value) else {
        return update(chart_dir, opts);
    };
    let mut deps = chart.metadata.dependencies.clone();
    let sources = sources(&mut deps, chart_dir, opts.dirs)?;
    if digest(&deps, &lock.dependencies) != lock.digest {
        return Err(DependencyError::User(
            "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml): run `pack dependency update` to resolve them again".into(),
        ));
    }
    if lock.dependencies.len() != deps.len() {
        return Err(DependencyError::User(
            "Chart.lock lists a different number of dependencies than Chart.yaml: run `pack dependency update`".into(),
        ));
    }
    let indexes = indexes(&sources, opts)?;
    download_all(chart_dir, &lock.dependencies, &sources, &indexes, opts)?;
    Ok(Some(Outcome {
        lock,
        lock_written: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, version: &str, repository: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            ..Dependency::default()
        }
    }

    #[test]
    fn digest_is_go_json_of_both_lists() {
        let req = [dep("common", ">=1.0.0 <2", "https://x.test/charts")];
        let locked = [Locked {
            name: "common".into(),
            repository: "https://x.test/charts".into(),
            version: "1.4.0".into(),
        }];
        let json = r#"[[{"name":"common","version":"\u003e=1.0.0 \u003c2","repository":"https://x.test/charts"}],[{"name":"common","version":"1.4.0","repository":"https://x.test/charts"}]]"#;
        assert_eq!(
            digest(&req, &locked),
            format!("sha256:{}", sha256_hex(json.as_bytes()))
        );
    }

    #[test]
    fn lock_round_trips_through_yaml() {
        let lock = Lock {
            dependencies: vec![Locked {
                name: "a".into(),
                repository: String::new(),
                version: "1.0.0".into(),
            }],
            digest: "sha256:00".into(),
            generated: "2026-12-05T00:00:00Z".into(),
        };
        let text = lock.to_yaml();
        assert!(text.contains("repository: \"\""), "{text}");
        let v = crate::value::yaml::from_str(&text, crate::value::yaml::Flavor::Core12)
            .expect("lock parses");
        assert_eq!(Lock::from_value(&v), lock);
    }
}
