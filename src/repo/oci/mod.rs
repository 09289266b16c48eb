//! Charts in OCI registries, stored as Helm stores them: `oci://host/path/chart` references,
//! tags that are chart versions (`+` written `_`), a manifest whose config is Chart.yaml as
//! JSON and whose layers are the archive and its provenance file; `push`, `pull`, version
//! lookup among tags, and `registry login|logout`.

pub mod client;
pub mod credentials;

use crate::repo::http::{RepoError, pick_version, safe_archive_name};
use crate::settings::Dirs;
use crate::value::{Map, Value};
use client::{Client, Connection, Descriptor};
use credentials::Credential;
use std::fmt;
use std::path::Path;

/// The manifest media type Helm writes.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config blob: Chart.yaml's metadata as JSON.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// The chart archive layer.
pub const CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The chart archive layer as Helm's first OCI support wrote it; still accepted on pull.
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";
/// The provenance (`.prov`) layer.
pub const PROV_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";

/// The largest layer pulled (archives are refused by the loader well before this).
const LAYER_LIMIT: u64 = 64 << 20;

/// A parsed `oci://host[:port]/path/name[:tag][@sha256:…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path (`charts/demo`); its last segment is the chart's name.
    pub repository: String,
    /// A tag, when given.
    pub tag: Option<String>,
    /// A manifest digest, when given.
    pub digest: Option<String>,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn valid_path_component(c: &str) -> bool {
    // The distribution spec: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
        && !c.contains("..")
        && !c.contains("___")
}

fn valid_tag(t: &str) -> bool {
    // [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
    !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(['.', '-'])
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

impl Reference {
    /// Parses an `oci://` reference (the scheme is required).
    pub fn parse(input: &str) -> Result<Reference, RepoError> {
        let bad = |why: &str| {
            RepoError::User(format!(
                "{input:?} is not a valid OCI reference: {why} (expected oci://HOST[:PORT]/PATH/CHART[:TAG])"
            ))
        };
        let rest = input
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it must start with oci://"))?;
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad("only sha256 digests are supported"))?;
                if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad("the digest must be sha256: and 64 hex digits"));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (rest, None),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("a repository path after the host is missing"))?;
        if registry.is_empty()
            || !registry
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']'))
        {
            return Err(bad(
                "the host is empty or has characters a host cannot have",
            ));
        }
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => {
                let t = t.replace('+', "_");
                if !valid_tag(&t) {
                    return Err(bad(&format!("{t:?} is not a valid tag")));
                }
                (p, Some(t))
            }
            _ => (path, None),
        };
        let path = path.trim_end_matches('/');
        if path.is_empty() || !path.split('/').all(valid_path_component) {
            return Err(bad(
                "each path segment must be lowercase letters and digits, joined by '.', '_' or '-'",
            ));
        }
        Ok(Reference {
            registry: registry.to_owned(),
            repository: path.to_owned(),
            tag,
            digest,
        })
    }

    /// The chart's name: the last path segment.
    pub fn chart_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }
}

/// The tag a chart version is stored under (`+` is not allowed in tags).
pub fn tag_of(version: &str) -> String {
    version.replace('+', "_")
}

/// The chart version a tag stands for (`_` read back as `+`).
pub fn version_of_tag(tag: &str) -> String {
    tag.replace('_', "+")
}

/// How to reach registries: Helm's `--plain-http`, TLS and credential flags.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Speak HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Skip TLS certificate checks.
    pub insecure_skip_tls_verify: bool,
    /// A CA bundle (PEM) to trust.
    pub ca_file: String,
    /// A user name (else the one `registry login` stored).
    pub username: String,
    /// Its password.
    pub password: String,
}

impl Options {
    /// How to reach `host` with these flags, answering challenges with `credential`.
    fn connection(&self, host: &str, credential: Option<Credential>) -> Connection {
        Connection {
            host: host.to_owned(),
            plain_http: self.plain_http,
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            ca_file: self.ca_file.clone(),
            credential,
        }
    }
}

fn connect(dirs: &Dirs, host: &str, opts: &Options) -> Result<Client, RepoError> {
    let credential = if opts.username.is_empty() {
        let docker = credentials::docker_config();
        credentials::lookup(&dirs.registry_config(), docker.as_deref(), host)?
    } else {
        Some(Credential {
            username: opts.username.clone(),
            password: opts.password.clone(),
        })
    };
    Client::new(&opts.connection(host, credential))
}

/// A chart pulled from a registry.
#[derive(Debug)]
pub struct Pulled {
    /// The archive.
    pub archive: Vec<u8>,
    /// `<chart>-<version>.tgz`.
    pub file_name: String,
    /// The reference pulled, with its tag (`host/charts/demo:1.0.0`).
    pub reference: String,
    /// The manifest's digest.
    pub digest: String,
    /// The provenance file, when the manifest carries one.
    pub provenance: Option<Vec<u8>>,
}

/// The tag a reference and a version constraint pick: the reference's own tag (which must
/// agree with an exact `version`), else the highest tag matching the constraint (`_` read
/// as `+`; stable versions only when the constraint is empty).
fn resolve_tag(client: &Client, r: &Reference, constraint: &str) -> Result<String, RepoError> {
    if let Some(tag) = &r.tag {
        if !constraint.is_empty()
            && tag_of(constraint) != *tag
            && crate::versions::parse_version(constraint).is_ok()
        {
            return Err(RepoError::User(format!(
                "oci://{r}: the tag {tag:?} and --version {constraint:?} disagree: give one of them"
            )));
        }
        return Ok(tag.clone());
    }
    // An exact version needs no tag listing.
    if crate::versions::parse_version(constraint).is_ok() && !constraint.starts_with(['=', 'v']) {
        return Ok(tag_of(constraint));
    }
    let tags = client.tags(&r.repository)?;
    let versions: Vec<String> = tags.iter().map(|t| version_of_tag(t)).collect();
    let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
    let picked = pick_version(&refs, constraint).ok_or_else(|| {
        RepoError::User(format!(
            "oci://{}/{}: no tag matches {} (tags: {})",
            r.registry,
            r.repository,
            if constraint.is_empty() {
                "the latest stable version".to_owned()
            } else {
                format!("{constraint:?}")
            },
            if tags.is_empty() {
                "none".to_owned()
            } else {
                tags.join(", ")
            }
        ))
    })?;
    Ok(tags[picked].clone())
}

/// The chart versions `reference` (`oci://host/path/chart`) has: its tags, `_` read as `+`.
pub fn versions(dirs: &Dirs, reference: &str, opts: &Options) -> Result<Vec<String>, RepoError> {
    let r = Reference::parse(reference)?;
    let client = connect(dirs, &r.registry, opts)?;
    Ok(client
        .tags(&r.repository)?
        .iter()
        .map(|t| version_of_tag(t))
        .collect())
}

fn descriptor_of(v: &serde_json::Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v.get("mediaType")?.as_str()?.to_owned(),
        digest: v.get("digest")?.as_str()?.to_owned(),
        size: v.get("size")?.as_u64()?,
    })
}

/// Pulls the chart `reference` names (`oci://host/path/chart[:tag|@digest]`), the version
/// chosen by `constraint` when the reference has no tag; the provenance layer too when
/// `with_provenance`.
pub fn pull(
    dirs: &Dirs,
    reference: &str,
    constraint: &str,
    with_provenance: bool,
    opts: &Options,
) -> Result<Pulled, RepoError> {
    let r = Reference::parse(reference)?;
    let client = connect(dirs, &r.registry, opts)?;
    let (manifest_ref, shown) = match &r.digest {
        Some(d) => (d.clone(), r.to_string()),
        None => {
            let tag = resolve_tag(&client, &r, constraint)?;
            let shown = format!("{}/{}:{tag}", r.registry, r.repository);
            (tag, shown)
        }
    };
    let (bytes, digest) = client.manifest(&r.repository, &manifest_ref, MANIFEST_MEDIA_TYPE)?;
    let manifest: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| RepoError::User(format!("{shown}: the manifest is not JSON: {e}")))?;
    let layers: Vec<Descriptor> = manifest
        .get("layers")
        .and_then(|l| l.as_array())
        .map(|l| l.iter().filter_map(descriptor_of).collect())
        .unwrap_or_default();
    let chart_layers: Vec<&Descriptor> = layers
        .iter()
        .filter(|d| d.media_type == CHART_MEDIA_TYPE || d.media_type == LEGACY_CHART_MEDIA_TYPE)
        .collect();
    let [chart_layer] = chart_layers[..] else {
        return Err(RepoError::User(format!(
            "{shown}: not a Helm chart: the manifest has {} layers of type {CHART_MEDIA_TYPE} (expected one)",
            chart_layers.len()
        )));
    };
    // The config (for the file name) comes on a second connection while the archive and
    // its provenance download, as helm fetches them.
    let config = manifest.get("config").and_then(descriptor_of);
    let (archive, provenance, from_config) = std::thread::scope(|scope| {
        let named = scope.spawn(|| {
            config
                .filter(|c| c.media_type == CONFIG_MEDIA_TYPE)
                .and_then(|c| client.blob(&r.repository, &c, 1 << 20).ok())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|c| {
                    let name = c.get("name")?.as_str()?.to_owned();
                    let version = c.get("version")?.as_str()?.to_owned();
                    Some(format!("{name}-{version}.tgz"))
                })
                .filter(|n| safe_archive_name(n))
        });
        let archive = client.blob(&r.repository, chart_layer, LAYER_LIMIT);
        let provenance = match layers.iter().find(|d| d.media_type == PROV_MEDIA_TYPE) {
            Some(d) if with_provenance => client.blob(&r.repository, d, LAYER_LIMIT).map(Some),
            _ => Ok(None),
        };
        (archive, provenance, named.join().ok().flatten())
    });
    let (archive, provenance) = (archive?, provenance?);
    let file_name = from_config.unwrap_or_else(|| {
        let v = version_of_tag(shown.rsplit(':').next().unwrap_or("latest"));
        format!("{}-{v}.tgz", r.chart_name())
    });
    Ok(Pulled {
        archive,
        file_name,
        reference: shown,
        digest,
        provenance,
    })
}

/// What `push` did.
#[derive(Debug)]
pub struct Pushed {
    /// `host/path/chart:tag`.
    pub reference: String,
    /// The manifest's digest.
    pub digest: String,
    /// The version had a `+`, stored as `_` in the tag.
    pub plus_replaced: bool,
}

/// The manifest's annotations, as Helm writes them: the OCI image annotations from
/// Chart.yaml, and the chart's own annotations (which cannot override title or version);
/// sorted, as Go writes a map.
fn annotations(meta: &crate::chart::Metadata, created: &str) -> Map {
    let mut a = std::collections::BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            a.insert(format!("org.opencontainers.image.{k}"), v.to_owned());
        }
    };
    put("description", &meta.description);
    put("title", &meta.name);
    put("version", &meta.version);
    put("url", &meta.home);
    put("created", created);
    put(
        "source",
        meta.sources.first().map(String::as_str).unwrap_or_default(),
    );
    let authors: Vec<String> = meta
        .maintainers
        .iter()
        .map(|m| {
            if m.email.is_empty() {
                m.name.clone()
            } else {
                format!("{} ({})", m.name, m.email)
            }
        })
        .collect();
    put("authors", &authors.join(", "));
    for (k, v) in &meta.annotations {
        if k == "org.opencontainers.image.title" || k == "org.opencontainers.image.version" {
            continue;
        }
        if let Some(s) = v.as_str() {
            a.insert(k.clone(), s.to_owned());
        }
    }
    a.into_iter().map(|(k, v)| (k, Value::from(v))).collect()
}

fn descriptor_value(d: &Descriptor) -> Value {
    let mut m = Map::default();
    m.insert("mediaType".into(), Value::from(d.media_type.as_str()));
    m.insert("digest".into(), Value::from(d.digest.as_str()));
    m.insert("size".into(), Value::from(d.size as i64));
    Value::Map(m)
}

/// The config blob: Chart.yaml's metadata as Go's `encoding/json` writes Helm's struct
/// (field order, empty fields left out, annotations sorted, `<>&` escaped).
fn config_json(meta: &crate::chart::Metadata) -> Result<Vec<u8>, RepoError> {
    let mut v = meta.to_value();
    if let Value::Map(m) = &mut v
        && let Some(Value::Map(a)) = m.get_mut("annotations")
    {
        a.sort_keys();
    }
    crate::funcs::serial::go_struct_json(&v, true)
        .map(String::into_bytes)
        .map_err(|e| RepoError::User(format!("Chart.yaml as JSON: {e}")))
}

/// The image manifest Helm writes: `schemaVersion`, `config`, `layers`, `annotations`, in
/// that order, as Go's `encoding/json` writes them. The same archive (same file time)
/// gives the same bytes, so pack and helm pushes of one archive share a digest.
fn manifest_json(
    config: &Descriptor,
    layers: &[Descriptor],
    annotations: Map,
) -> Result<Vec<u8>, RepoError> {
    let mut m = Map::default();
    m.insert("schemaVersion".into(), Value::from(2i64));
    m.insert("config".into(), descriptor_value(config));
    m.insert(
        "layers".into(),
        Value::List(layers.iter().map(descriptor_value).collect()),
    );
    m.insert("annotations".into(), Value::Map(annotations));
    crate::funcs::serial::go_struct_json(&Value::Map(m), true)
        .map(String::into_bytes)
        .map_err(|e| RepoError::User(format!("manifest: {e}")))
}

/// Pushes a chart archive (and the `.prov` beside it, if any) to `remote`
/// (`oci://host/path`): the chart lands at `host/path/<name>:<version>`.
pub fn push(
    dirs: &Dirs,
    archive: &Path,
    remote: &str,
    opts: &Options,
) -> Result<Pushed, RepoError> {
    let bytes = std::fs::read(archive).map_err(|e| RepoError::Io {
        path: archive.display().to_string(),
        source: e,
    })?;
    let chart = crate::chart::load_archive_bytes(&bytes, &archive.display().to_string())
        .map_err(|e| RepoError::User(format!("{}: not a chart archive: {e}", archive.display())))?;
    let meta = &chart.metadata;
    let expected = format!("{}-{}.tgz", meta.name, meta.version);
    let base = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if base != expected {
        return Err(RepoError::User(format!(
            "{}: the archive of chart {} version {} must be named {expected} to be pushed",
            archive.display(),
            meta.name,
            meta.version
        )));
    }
    let target = Reference::parse(remote)?;
    if target.tag.is_some() || target.digest.is_some() {
        return Err(RepoError::User(format!(
            "{remote}: give the repository without a tag or digest: the chart's version is the tag"
        )));
    }
    let repository = format!("{}/{}", target.repository, meta.name);
    if !valid_path_component(&meta.name) {
        return Err(RepoError::User(format!(
            "chart name {:?} cannot be a registry path segment (lowercase letters, digits, '.', '_', '-')",
            meta.name
        )));
    }
    let tag = tag_of(&meta.version);
    let client = connect(dirs, &target.registry, opts)?;

    let config_bytes = config_json(meta)?;
    let config = Descriptor::of(CONFIG_MEDIA_TYPE, &config_bytes);
    let mut layers = vec![(Descriptor::of(CHART_MEDIA_TYPE, &bytes), bytes)];
    let prov_path = std::path::PathBuf::from(format!("{}.prov", archive.display()));
    match std::fs::read(&prov_path) {
        Ok(prov) => layers.push((Descriptor::of(PROV_MEDIA_TYPE, &prov), prov)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(RepoError::Io {
                path: prov_path.display().to_string(),
                source: e,
            });
        }
    }
    layers.sort_by(|a, b| a.0.digest.cmp(&b.0.digest));

    client.put_blob(&repository, &config_bytes, &config)?;
    for (d, data) in &layers {
        client.put_blob(&repository, data, d)?;
    }
    // `created` is the archive's modification time, as Helm records it: pushing the same
    // file twice gives the same manifest.
    let mtime = std::fs::metadata(archive)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let created = mtime.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let descriptors: Vec<Descriptor> = layers.iter().map(|(d, _)| d.clone()).collect();
    let manifest_bytes = manifest_json(&config, &descriptors, annotations(meta, &created))?;
    let digest = client.put_manifest(&repository, &tag, MANIFEST_MEDIA_TYPE, &manifest_bytes)?;
    Ok(Pushed {
        reference: format!("{}/{repository}:{tag}", target.registry),
        digest,
        plus_replaced: meta.version.contains('+'),
    })
}

/// `registry login`: checks the credentials against `host` and stores them.
pub fn login(
    dirs: &Dirs,
    host: &str,
    credential: Credential,
    opts: &Options,
) -> Result<(), RepoError> {
    let host = host.trim_start_matches("oci://").trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(RepoError::User(format!(
            "{host:?} is not a registry host: give HOST[:PORT] only"
        )));
    }
    let client = Client::new(&opts.connection(host, Some(credential.clone())))?;
    client.ping()?;
    credentials::store(&dirs.registry_config(), host, &credential)
}

/// `registry logout`: forgets `host`'s credentials; false when there were none.
pub fn logout(dirs: &Dirs, host: &str) -> Result<bool, RepoError> {
    let host = host.trim_start_matches("oci://").trim_end_matches('/');
    credentials::remove(&dirs.registry_config(), host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_helms() {
        let r = Reference::parse("oci://localhost:5000/charts/demo:1.2.3_build.4").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "charts/demo");
        assert_eq!(r.tag.as_deref(), Some("1.2.3_build.4"));
        assert_eq!(r.chart_name(), "demo");
        let r = Reference::parse("oci://ghcr.io/a/b").unwrap();
        assert_eq!((r.tag, r.digest), (None, None));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("oci://h/x/y@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        // `+` is written `_` in the tag.
        let r = Reference::parse("oci://h/x/y:1.0.0+b1").unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.0.0_b1"));
        for bad in [
            "https://h/x",
            "oci://h",
            "oci://h/Upper",
            "oci://h/a//b",
            "oci://h/a:-x",
            "oci://h/a@sha256:12",
            "oci://h/a@md5:00",
            "oci:///a",
        ] {
            let e = Reference::parse(bad).unwrap_err().to_string();
            assert!(e.contains("not a valid OCI reference"), "{bad}: {e}");
        }
    }

    #[test]
    fn annotations_follow_chart_yaml() {
        let raw = crate::value::yaml::from_str(
            "apiVersion: v2\nname: demo\nversion: 1.0.0\ndescription: A <demo>\nhome: https://x\nsources: [https://s1, https://s2]\nmaintainers: [{name: Ann, email: a@x}, {name: Bob}]\nannotations: {org.opencontainers.image.title: nope, team: core}\n",
            crate::value::yaml::Flavor::Yaml11,
        )
        .unwrap();
        let meta = crate::chart::Metadata::from_value(raw).unwrap();
        let a = annotations(&meta, "2026-01-01T00:00:00Z");
        let keys: Vec<&str> = a.keys().map(String::as_str).collect::<Vec<_>>();
        assert_eq!(
            keys,
            [
                "org.opencontainers.image.authors",
                "org.opencontainers.image.created",
                "org.opencontainers.image.description",
                "org.opencontainers.image.source",
                "org.opencontainers.image.title",
                "org.opencontainers.image.url",
                "org.opencontainers.image.version",
                "team"
            ]
        );
        assert_eq!(a["org.opencontainers.image.title"], Value::from("demo"));
        assert_eq!(
            a["org.opencontainers.image.authors"],
            Value::from("Ann (a@x), Bob")
        );
        assert_eq!(
            a["org.opencontainers.image.source"],
            Value::from("https://s1")
        );
        // Byte for byte what helm pushed for a chart like this (observed with helm 4.1.4).
        let config = config_json(&meta).unwrap();
        assert_eq!(
            String::from_utf8(config).unwrap(),
            r#"{"name":"demo","home":"https://x","sources":["https://s1","https://s2"],"version":"1.0.0","description":"A \u003cdemo\u003e","maintainers":[{"name":"Ann","email":"a@x"},{"name":"Bob"}],"apiVersion":"v2","annotations":{"org.opencontainers.image.title":"nope","team":"core"}}"#
        );
    }
}
