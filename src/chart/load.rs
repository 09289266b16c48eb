//! Loading a chart from a directory or a `.tgz` into a [`Chart`], refusing anything unsafe.

use super::archive::{self, ArchiveError, Limits};
use super::dir::{Contents, Dir, Kind};
use super::ignore::{HelmIgnore, IgnoreError};
use super::metadata::{Engine, Metadata, MetadataError, NATIVE_API_VERSION};
use super::{Chart, ChartFile};
use crate::value::yaml::{self, Flavor, YamlError};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a chart could not be loaded. Every variant names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path does not exist or could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The archive is unsafe or damaged.
    #[error("{path}: {source}")]
    Archive {
        /// The archive.
        path: String,
        /// What is wrong with it.
        source: ArchiveError,
    },
    /// No `Chart.yaml` at the chart root.
    #[error("{origin}: Chart.yaml file is missing: is this a chart directory or archive?")]
    MissingChartYaml {
        /// The directory or archive.
        origin: String,
    },
    /// `Chart.yaml` has a bad field.
    #[error("{origin}/{source}")]
    Metadata {
        /// The chart.
        origin: String,
        /// The field and the problem.
        source: MetadataError,
    },
    /// A YAML file of the chart does not parse.
    #[error("{file}: {source}")]
    Yaml {
        /// The file, with the chart's path.
        file: String,
        /// Where and why.
        source: YamlError,
    },
    /// `.helmignore` has a bad rule.
    #[error("{origin}/.helmignore: {source}")]
    Ignore {
        /// The chart directory.
        origin: String,
        /// The rule and the problem.
        source: IgnoreError,
    },
    /// A file that is not a regular file (device, socket, FIFO).
    #[error("{path}: cannot load an irregular file (device, socket or pipe) into a chart")]
    Irregular {
        /// The file.
        path: PathBuf,
    },
    /// A symbolic link whose target lies outside the chart directory.
    #[error(
        "{path}: symbolic link to {target} leaves the chart directory; copy the file into the chart instead"
    )]
    SymlinkOutside {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// A file or the whole chart exceeds the size limits.
    #[error("{path}: {what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The file or directory.
        path: PathBuf,
        /// `file` or `chart`.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Loads a chart from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, LoadError> {
    let meta = fs::metadata(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let bytes = fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        load_archive_bytes(&bytes, &path.display().to_string())
    }
}

/// Loads a chart from a `.tgz` already in memory; `origin` names it in messages.
pub fn load_archive_bytes(bytes: &[u8], origin: &str) -> Result<Chart, LoadError> {
    let files = archive::read_chart_archive_bytes(bytes, &Limits::default()).map_err(|source| {
        LoadError::Archive {
            path: origin.to_owned(),
            source,
        }
    })?;
    from_files(
        files
            .into_iter()
            .map(|f| ChartFile {
                name: f.path,
                data: f.data,
            })
            .collect(),
        origin,
    )
}

/// Loads a chart directory, honouring its `.helmignore` (plus Helm's default rule that
/// hidden files under `templates/` are skipped). Symbolic links are followed while they
/// stay inside the chart.
pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LoadError::Io { path, source }
    };
    let root = fs::canonicalize(dir).map_err(io(dir))?;
    let origin = dir.display().to_string();
    let ignore_text = match fs::read_to_string(root.join(".helmignore")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(&root.join(".helmignore"))(e)),
    };
    let rules = HelmIgnore::parse(&ignore_text)
        .map_err(|source| LoadError::Ignore {
            origin: origin.clone(),
            source,
        })?
        .with_defaults();
    let top = Dir::open(&root).map_err(io(&root))?;
    let mut walker = Walker {
        root: &root,
        rules: &rules,
        files: Vec::new(),
        total: 0,
        limits: Limits::default(),
    };
    walker.walk(&top, "", 0)?;
    from_files(walker.files, &origin)
}

struct Walker<'a> {
    root: &'a Path,
    rules: &'a HelmIgnore,
    files: Vec<ChartFile>,
    total: u64,
    limits: Limits,
}

/// Deeper than this, a directory tree is taken to be a symbolic-link loop.
const MAX_DEPTH: usize = 64;

impl Walker<'_> {
    fn walk(&mut self, dir: &Dir, rel: &str, depth: usize) -> Result<(), LoadError> {
        let io = |path: PathBuf| move |source| LoadError::Io { path, source };
        if depth > MAX_DEPTH {
            return Err(LoadError::Io {
                path: dir.path().to_owned(),
                source: std::io::Error::other(
                    "directories nested too deep (a symbolic-link loop?)",
                ),
            });
        }
        for (name, mut kind) in dir.entries().map_err(io(dir.path().to_owned()))? {
            // Paths are built for messages only, never on the way of a file that loads.
            let path = || dir.path().join(&name);
            let io_at = |source| LoadError::Io {
                path: path(),
                source,
            };
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if kind == Kind::Symlink {
                let target = fs::canonicalize(path()).map_err(io_at)?;
                if !target.starts_with(self.root) {
                    return Err(LoadError::SymlinkOutside {
                        path: path(),
                        target,
                    });
                }
                kind = dir.follow(&name).map_err(io_at)?;
            }
            if kind == Kind::Dir {
                if !self.rules.is_ignored(&rel_path, true) {
                    let sub = dir.open_dir(&name).map_err(io_at)?;
                    self.walk(&sub, &rel_path, depth + 1)?;
                }
                continue;
            }
            if self.rules.is_ignored(&rel_path, false) {
                continue;
            }
            let irregular = || LoadError::Irregular { path: path() };
            if kind != Kind::File {
                return Err(irregular());
            }
            let mut data = match dir.read_file(&name, self.limits.max_file_bytes) {
                Ok(Contents::Data(data)) => data,
                Ok(Contents::Irregular) => return Err(irregular()),
                Ok(Contents::TooLarge(size)) => {
                    return Err(LoadError::TooLarge {
                        path: path(),
                        what: "file",
                        size,
                        limit: self.limits.max_file_bytes,
                    });
                }
                Err(source) => return Err(io_at(source)),
            };
            self.total += data.len() as u64;
            if self.total > self.limits.max_total_bytes {
                return Err(LoadError::TooLarge {
                    path: self.root.to_owned(),
                    what: "chart",
                    size: self.total,
                    limit: self.limits.max_total_bytes,
                });
            }
            strip_bom(&mut data);
            self.files.push(ChartFile {
                name: rel_path,
                data,
            });
        }
        Ok(())
    }
}

/// Drops a UTF-8 byte-order mark from the start of a file's bytes.
pub(crate) fn strip_bom(data: &mut Vec<u8>) {
    if data.starts_with(b"\xEF\xBB\xBF") {
        data.drain(..3);
    }
}

/// Builds a chart from its files (paths relative to the chart root). Subcharts under
/// `charts/` — directories or `.tgz` files — are built recursively; entries of `charts/`
/// whose names start with `_` or `.` are skipped, as Helm does.
pub fn from_files(files: Vec<ChartFile>, origin: &str) -> Result<Chart, LoadError> {
    let mut chart_yaml = None;
    let mut lock = None;
    let mut values_text = None;
    let mut schema = None;
    let mut requirements = None;
    let mut templates = Vec::new();
    let mut other = Vec::new();
    let mut sub_dirs: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    let mut sub_archives = Vec::new();

    for mut file in files {
        strip_bom(&mut file.data);
        if let Some(rest) = file.name.strip_prefix("charts/") {
            let (first, inner) = match rest.split_once('/') {
                Some((first, inner)) => (first.to_owned(), Some(inner.to_owned())),
                None => (rest.to_owned(), None),
            };
            if first.starts_with(['_', '.']) {
                continue;
            }
            match inner {
                Some(inner) => sub_dirs.entry(first).or_default().push(ChartFile {
                    name: inner,
                    data: file.data,
                }),
                None if first.ends_with(".tgz") || first.ends_with(".tar.gz") => {
                    sub_archives.push(file)
                }
                None => other.push(file),
            }
            continue;
        }
        match file.name.as_str() {
            "Chart.yaml" => chart_yaml = Some(file),
            "Chart.lock" => lock = Some(file),
            "values.yaml" => values_text = Some(file),
            "values.schema.json" => schema = Some(file.data),
            "requirements.yaml" => requirements = Some(file),
            "requirements.lock" => {
                if lock.is_none() {
                    lock = Some(file);
                }
            }
            n if n.starts_with("templates/") => templates.push(file),
            _ => other.push(file),
        }
    }

    let chart_yaml = chart_yaml.ok_or_else(|| LoadError::MissingChartYaml {
        origin: origin.to_owned(),
    })?;
    let yaml_err = |name: &str| {
        let file = format!("{origin}/{name}");
        move |source| LoadError::Yaml { file, source }
    };
    // Chart.yaml decides the flavour of every other YAML file of the chart.
    let text = chart_yaml.text();
    let mut raw = yaml::from_str(&text, Flavor::Yaml11).map_err(yaml_err("Chart.yaml"))?;
    let native = raw.get("apiVersion").and_then(Value::as_str) == Some(NATIVE_API_VERSION);
    if native {
        raw = yaml::from_str(&text, Flavor::Core12).map_err(yaml_err("Chart.yaml"))?;
    }
    let flavor = if native {
        Flavor::Core12
    } else {
        Flavor::Yaml11
    };
    let mut metadata = Metadata::from_value(raw).map_err(|source| LoadError::Metadata {
        origin: origin.to_owned(),
        source,
    })?;

    if let Some(req) = requirements {
        // Legacy (apiVersion v1) dependency list; Helm reads it into the metadata.
        let doc = yaml::from_str(&req.text(), flavor).map_err(yaml_err("requirements.yaml"))?;
        if let Some(deps) = doc.get("dependencies") {
            let mut merged = metadata.raw.clone();
            if let Some(m) = merged.as_map_mut() {
                m.insert("dependencies".into(), deps.clone());
            }
            metadata = Metadata::from_value(merged).map_err(|source| LoadError::Metadata {
                origin: format!("{origin}/requirements.yaml"),
                source,
            })?;
        }
        if metadata.api_version == "v1" {
            other.push(req);
        }
    }

    let lock = match lock {
        Some(f) => Some(yaml::from_str(&f.text(), flavor).map_err(yaml_err(&f.name))?),
        None => None,
    };

    let (values, values_text) = match values_text {
        Some(f) => {
            let text = f.text().into_owned();
            let values =
                read_values(&text, flavor, metadata.engine()).map_err(yaml_err("values.yaml"))?;
            (values, Some(text))
        }
        None => (Value::map(), None),
    };

    let mut dependencies = Vec::new();
    for (name, files) in sub_dirs {
        dependencies.push(from_files(files, &format!("{origin}/charts/{name}"))?);
    }
    for file in sub_archives {
        dependencies.push(load_archive_bytes(
            &file.data,
            &format!("{origin}/{}", file.name),
        )?);
    }

    Ok(Chart {
        metadata,
        lock,
        values,
        values_text,
        schema,
        templates,
        files: other,
        dependencies,
        origin: origin.to_owned(),
    })
}

/// Reads a values document the way the chart's engine does: a multi-document stream whose
/// later documents deep-merge over earlier ones; on the Helm path every number becomes a
/// float64, as Helm's YAML-through-JSON reading makes it.
pub fn read_values(text: &str, flavor: Flavor, engine: Engine) -> Result<Value, YamlError> {
    let mut merged = Map::default();
    for doc in yaml::from_str_multi(text, flavor)? {
        match doc {
            Value::Map(m) => crate::values::merge_maps(&mut merged, m),
            other => {
                return Err(YamlError {
                    message: format!("values must be a mapping, got a {}", other.type_name()),
                    line: None,
                    column: None,
                });
            }
        }
    }
    let mut values = Value::Map(merged);
    if engine == Engine::Helm {
        values.ints_to_floats();
    }
    Ok(values)
}

/// [`read_values`], returning the map itself.
pub fn read_values_text(text: &str, flavor: Flavor, engine: Engine) -> Result<Map, YamlError> {
    match read_values(text, flavor, engine)? {
        Value::Map(m) => Ok(m),
        _ => Ok(Map::default()),
    }
}
