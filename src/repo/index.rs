//! A chart repository's `index.yaml`, as Helm writes and reads it: `apiVersion: v1`,
//! `entries` (per chart, versions newest first, each with its Chart.yaml fields, `urls`,
//! `created` and the archive's `digest`) and `generated`.

use super::package::{PackageError, sha256_hex, write_atomic};
use crate::chart;
use crate::value::emit::{EmitOptions, emit};
use crate::value::{Map, Value};
use crate::versions::{compare, parse_version};
use std::path::{Path, PathBuf};

/// Why an index could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An existing index (`--merge`) is not an index.
    #[error("{path}: not a chart repository index: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Writing the index failed.
    #[error(transparent)]
    Write(#[from] PackageError),
}

/// An index: chart name → versions (newest first), as maps with Helm's keys.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Entries by chart name.
    pub entries: std::collections::BTreeMap<String, Vec<Map>>,
    /// Other top-level keys kept from a merged index (`annotations`, `serverInfo`…).
    pub extra: Map,
}

/// Go's `time.RFC3339Nano` of now, in UTC (`2026-11-22T01:31:05.749236136Z`).
pub fn now_rfc3339_nano() -> String {
    let now = jiff::Timestamp::now();
    let s = now.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string();
    // Go trims trailing zeros of the fraction (and the dot when nothing is left).
    match s.split_once('.') {
        Some((whole, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{whole}Z")
            } else {
                format!("{whole}.{digits}Z")
            }
        }
        None => s,
    }
}

fn version_of(entry: &Map) -> &str {
    entry.get("version").and_then(Value::as_str).unwrap_or("")
}

impl Index {
    /// Adds a chart version (replacing one with the same version).
    pub fn add(&mut self, entry: Map) {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let list = self.entries.entry(name).or_default();
        let v = version_of(&entry).to_owned();
        list.retain(|e| version_of(e) != v);
        list.push(entry);
    }

    /// Removes a chart version (and the chart when no version is left); whether it was there.
    pub fn remove(&mut self, name: &str, version: &str) -> bool {
        let Some(list) = self.entries.get_mut(name) else {
            return false;
        };
        let before = list.len();
        list.retain(|e| version_of(e) != version);
        let removed = list.len() != before;
        if list.is_empty() {
            self.entries.remove(name);
        }
        removed
    }

    /// True when the index has this chart version.
    pub fn has(&self, name: &str, version: &str) -> bool {
        self.entries
            .get(name)
            .is_some_and(|l| l.iter().any(|e| version_of(e) == version))
    }

    /// Sorts each chart's versions newest first (SemVer; unparsable versions last).
    pub fn sort(&mut self) {
        for list in self.entries.values_mut() {
            list.sort_by(|a, b| {
                match (parse_version(version_of(a)), parse_version(version_of(b))) {
                    (Ok(x), Ok(y)) => compare(&y, &x),
                    (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                    (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                    (Err(_), Err(_)) => version_of(a).cmp(version_of(b)),
                }
            });
        }
    }

    /// The index as a value: `apiVersion`, `entries`, `generated` and kept extras.
    pub fn to_value(&self, generated: &str) -> Value {
        let mut top = self.extra.clone();
        top.insert("apiVersion".into(), Value::from("v1"));
        let entries: Map = self
            .entries
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::List(v.iter().cloned().map(Value::Map).collect()),
                )
            })
            .collect();
        top.insert("entries".into(), Value::Map(entries));
        top.insert("generated".into(), Value::from(generated));
        Value::Map(top)
    }

    /// Helm's YAML for the index (keys sorted, as sigs.k8s.io/yaml writes).
    pub fn to_yaml(&self, generated: &str) -> String {
        emit(&self.to_value(generated), &EmitOptions::helm())
    }

    /// Reads an index file (YAML or JSON).
    pub fn read(path: &Path) -> Result<Index, IndexError> {
        let text = std::fs::read_to_string(path).map_err(|source| IndexError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| IndexError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses index text (YAML or JSON).
    pub fn parse(text: &str) -> Result<Index, String> {
        let v = crate::value::yaml::from_str(text, crate::value::yaml::Flavor::Yaml11)
            .map_err(|e| e.to_string())?;
        let Value::Map(mut top) = v else {
            return Err("the index is not a mapping".into());
        };
        if top.get("apiVersion").and_then(Value::as_str).is_none() {
            return Err("no API version specified".into());
        }
        let mut index = Index::default();
        if let Some(Value::Map(entries)) = top.shift_remove("entries") {
            for (name, list) in entries {
                let Value::List(list) = list else { continue };
                let versions = list
                    .into_iter()
                    .filter_map(|e| match e {
                        Value::Map(m) => Some(m),
                        _ => None,
                    })
                    .collect();
                index.entries.insert(name, versions);
            }
        }
        top.shift_remove("apiVersion");
        top.shift_remove("generated");
        index.extra = top;
        index.sort();
        Ok(index)
    }
}

/// The archives `helm repo index` looks at: `DIR/*.tgz` and `DIR/*/*.tgz`, sorted.
fn archives(dir: &Path) -> Result<Vec<PathBuf>, IndexError> {
    let read = |d: &Path| -> Result<Vec<PathBuf>, IndexError> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|source| IndexError::Io {
                path: d.display().to_string(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        out.sort();
        Ok(out)
    };
    let mut found = Vec::new();
    for p in read(dir)? {
        if p.is_dir() {
            found.extend(
                read(&p)?
                    .into_iter()
                    .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "tgz")),
            );
        } else if p.extension().is_some_and(|e| e == "tgz") {
            found.push(p);
        }
    }
    found.sort();
    Ok(found)
}

/// Joins a base URL and a relative path with one `/`.
fn join_url(base: &str, rel: &str) -> String {
    if base.is_empty() {
        return rel.to_owned();
    }
    format!("{}/{}", base.trim_end_matches('/'), rel)
}

/// The index entry of a chart archive: its Chart.yaml fields, `urls`, `created` and
/// `digest` (of `bytes`).
pub fn entry(chart: &chart::Chart, bytes: &[u8], url: &str, created: &str) -> Map {
    let mut entry = match chart.metadata.to_value() {
        Value::Map(m) => m,
        _ => Map::default(),
    };
    entry.insert("urls".into(), Value::List(vec![Value::from(url)]));
    entry.insert("created".into(), Value::from(created));
    entry.insert("digest".into(), Value::from(sha256_hex(bytes).as_str()));
    entry
}

/// What indexing a directory skipped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The archive.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Indexes the chart archives of `dir` (Helm's `repo index`): each loadable archive becomes
/// an entry with its Chart.yaml fields, `urls` (`url` joined with its path under `dir`),
/// `created` (now) and `digest`; with `merge`, entries of that index that are not present
/// here are kept.
pub fn index_dir(
    dir: &Path,
    url: &str,
    merge: Option<&Path>,
) -> Result<(Index, Vec<Skipped>), IndexError> {
    let mut index = Index::default();
    let mut skipped = Vec::new();
    let created = now_rfc3339_nano();
    for path in archives(dir)? {
        let bytes = std::fs::read(&path).map_err(|source| IndexError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let chart = match chart::load_archive_bytes(&bytes, &path.display().to_string()) {
            Ok(c) => c,
            Err(e) => {
                skipped.push(Skipped {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        index.add(entry(&chart, &bytes, &join_url(url, &rel), &created));
    }
    if let Some(old) = merge
        && old.exists()
    {
        let old = Index::read(old)?;
        for (name, versions) in old.entries {
            for v in versions {
                if !index.has(&name, version_of(&v)) {
                    index.entries.entry(name.clone()).or_default().push(v);
                }
            }
        }
        index.extra = old.extra;
    }
    index.sort();
    Ok((index, skipped))
}

/// Writes `index.yaml` (or `index.json` with `json`) into `dir`, atomically.
pub fn write(index: &Index, dir: &Path, json: bool) -> Result<PathBuf, IndexError> {
    let generated = now_rfc3339_nano();
    let (path, text) = if json {
        let v = serde_json::Value::from(&index.to_value(&generated));
        let text = serde_json::to_string(&v).unwrap_or_default();
        (dir.join("index.yaml"), text)
    } else {
        (dir.join("index.yaml"), index.to_yaml(&generated))
    };
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}
