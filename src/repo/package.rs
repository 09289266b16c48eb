//! `pack package`: a chart directory to `<name>-<version>.tgz`, laid out as Helm lays it out
//! (`<name>/Chart.yaml`, `Chart.lock`, `values.yaml`, `values.schema.json`, templates, other
//! files, subcharts as directories), and reproducible: the same tree gives the same bytes
//! whatever its files' times, owners and modes.

use crate::chart::{self, Chart, LoadError};
use crate::value::Value;
use crate::value::emit::{EmitOptions, emit};
use crate::versions::parse_version;
use flate2::{Compression, GzBuilder};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to package and where.
#[derive(Clone, Debug, Default)]
pub struct PackageOptions {
    /// Directory the archive is written to.
    pub destination: PathBuf,
    /// Overrides Chart.yaml's `version`.
    pub version: Option<String>,
    /// Overrides Chart.yaml's `appVersion`.
    pub app_version: Option<String>,
    /// The time stored for every entry (seconds since 1970); `None` reads
    /// `SOURCE_DATE_EPOCH`, else 0.
    pub mtime: Option<u64>,
}

/// Why a chart could not be packaged.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The chart does not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A directory is required (an archive is already a package).
    #[error("{0} is not a chart directory (to repackage an archive, unpack it first)")]
    NotADirectory(String),
    /// The chart's version is not SemVer 2.
    #[error(
        "chart {name}: version {version:?} is not a valid SemVer 2 version (e.g. 1.2.3): fix `version` in Chart.yaml or pass --version"
    )]
    BadVersion {
        /// The chart.
        name: String,
        /// The version given.
        version: String,
    },
    /// Chart.yaml lists dependencies `charts/` does not have.
    #[error(transparent)]
    MissingDependencies(#[from] chart::dependencies::DependencyError),
    /// values.schema.json is not JSON.
    #[error("chart {name}: values.schema.json is not valid JSON: {message}")]
    BadSchema {
        /// The chart.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Writing failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A packaged chart.
#[derive(Debug)]
pub struct Packaged {
    /// The archive written.
    pub path: PathBuf,
    /// Its bytes' SHA-256, hex.
    pub digest: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The entry time: the option, else `SOURCE_DATE_EPOCH`, else 0.
fn entry_time(opts: &PackageOptions) -> u64 {
    opts.mtime
        .or_else(|| {
            std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Packages the chart directory `dir` into `opts.destination`.
pub fn package(dir: &Path, opts: &PackageOptions) -> Result<Packaged, PackageError> {
    if !dir.is_dir() {
        return Err(PackageError::NotADirectory(dir.display().to_string()));
    }
    let mut chart = chart::load(dir)?;
    if let Some(v) = &opts.version {
        chart.metadata.version = v.clone();
    }
    if let Some(v) = &opts.app_version {
        chart.metadata.app_version = v.clone();
    }
    check(&chart)?;
    chart::dependencies::check_present(&chart)?;
    let bytes = archive_bytes(&chart, entry_time(opts))?;
    let name = format!("{}-{}.tgz", chart.name(), chart.metadata.version);
    std::fs::create_dir_all(&opts.destination).map_err(io(&opts.destination))?;
    let path = opts.destination.join(name);
    write_atomic(&path, &bytes)?;
    Ok(Packaged {
        path,
        digest: sha256_hex(&bytes),
    })
}

/// Refuses what Helm refuses to package: a version that is not SemVer 2, a schema that is
/// not JSON (in the chart and every subchart).
fn check(chart: &Chart) -> Result<(), PackageError> {
    if parse_version(&chart.metadata.version).is_err() {
        return Err(PackageError::BadVersion {
            name: chart.name().to_owned(),
            version: chart.metadata.version.clone(),
        });
    }
    if let Some(schema) = &chart.schema
        && let Err(e) = serde_json::from_slice::<serde_json::Value>(schema)
    {
        return Err(PackageError::BadSchema {
            name: chart.name().to_owned(),
            message: e.to_string(),
        });
    }
    chart.dependencies.iter().try_for_each(check)
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The archive of a loaded chart: a gzip (no name, time 0) of a tar whose entries are all
/// regular files, mode 0644, owner 0, time `mtime`, in Helm's order.
pub fn archive_bytes(chart: &Chart, mtime: u64) -> Result<Vec<u8>, PackageError> {
    let gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    add_chart(&mut tar, chart, chart.name(), mtime)?;
    let gz = tar.into_inner().map_err(io(Path::new("(archive)")))?;
    gz.finish().map_err(io(Path::new("(archive)")))
}

fn add_chart<W: Write>(
    tar: &mut tar::Builder<W>,
    chart: &Chart,
    base: &str,
    mtime: u64,
) -> Result<(), PackageError> {
    let helm = EmitOptions::helm();
    add(
        tar,
        &format!("{base}/Chart.yaml"),
        emit(&chart.metadata.to_value(), &helm).as_bytes(),
        mtime,
    )?;
    if let Some(lock) = &chart.lock {
        add(
            tar,
            &format!("{base}/Chart.lock"),
            emit(lock, &helm).as_bytes(),
            mtime,
        )?;
    }
    if let Some(values) = &chart.values_text {
        add(
            tar,
            &format!("{base}/values.yaml"),
            values.as_bytes(),
            mtime,
        )?;
    } else if !matches!(&chart.values, Value::Map(m) if m.is_empty()) {
        add(
            tar,
            &format!("{base}/values.yaml"),
            emit(&chart.values, &helm).as_bytes(),
            mtime,
        )?;
    }
    if let Some(schema) = &chart.schema {
        add(tar, &format!("{base}/values.schema.json"), schema, mtime)?;
    }
    for f in chart.templates.iter().chain(&chart.files) {
        add(tar, &format!("{base}/{}", f.name), &f.data, mtime)?;
    }
    for dep in &chart.dependencies {
        add_chart(tar, dep, &format!("{base}/charts/{}", dep.name()), mtime)?;
    }
    Ok(())
}

fn add<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    data: &[u8],
    mtime: u64,
) -> Result<(), PackageError> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    tar.append_data(&mut h, path, data)
        .map_err(io(Path::new(path)))
}

/// Writes a file through a temporary beside it and a rename, so readers never see half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        PackageError::Io {
            path: path.display().to_string(),
            source: e,
        }
    })
}
