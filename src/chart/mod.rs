//! Charts in memory: loading from a directory or `.tgz`, `Chart.yaml`, `.helmignore`, and
//! how dependencies are enabled, aliased and import values (Helm's rules).

pub mod archive;
pub mod create;
pub mod dependencies;
mod dir;
pub mod ignore;
mod load;
pub mod metadata;

pub(crate) use load::strip_bom;
pub use load::{
    LoadError, from_files, load, load_archive_bytes, load_dir, read_values, read_values_text,
};
pub use metadata::{Dependency, Engine, ImportValue, Maintainer, Metadata, NATIVE_API_VERSION};

use crate::value::Value;

/// A file of a chart: its path relative to the chart root (`/`-separated) and contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFile {
    /// Path relative to the chart root, e.g. `templates/deployment.yaml`.
    pub name: String,
    /// Contents (a leading UTF-8 byte-order mark already removed).
    pub data: Vec<u8>,
}

impl ChartFile {
    /// The contents as text (invalid UTF-8 replaced).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        // `from_utf8` checks ASCII a word at a time; the lossy path is for broken files.
        match std::str::from_utf8(&self.data) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&self.data),
        }
    }
}

/// A loaded chart and, recursively, its subcharts.
#[derive(Clone, Debug)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// `Chart.lock` (or `requirements.lock`) as read, when present.
    pub lock: Option<Value>,
    /// Default values from `values.yaml` (an empty map when absent).
    pub values: Value,
    /// `values.yaml` exactly as written, for `pack show values`.
    pub values_text: Option<String>,
    /// `values.schema.json`, when present.
    pub schema: Option<Vec<u8>>,
    /// Everything under `templates/` (partials `_*` and `NOTES.txt` included).
    pub templates: Vec<ChartFile>,
    /// Every other file (README, `crds/`, `files/`…): what `.Files` offers.
    pub files: Vec<ChartFile>,
    /// Subcharts from `charts/`, directories and archives alike.
    pub dependencies: Vec<Chart>,
    /// Where the chart came from, for messages (`charts/web`, `web-1.0.0.tgz`).
    pub origin: String,
}

impl Chart {
    /// The chart's name (its alias once dependencies are processed).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Which engine renders the chart.
    pub fn engine(&self) -> Engine {
        self.metadata.engine()
    }

    /// CRD files under `crds/` (`.yaml`, `.yml`, `.json`, any case), in path order.
    pub fn crd_files(&self) -> impl Iterator<Item = &ChartFile> {
        self.files.iter().filter(|f| {
            f.name.starts_with("crds/") && {
                let lower = f.name.to_ascii_lowercase();
                lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
            }
        })
    }

    /// The README at the chart root (`README.md`, `README.txt`, `README`, any case).
    pub fn readme(&self) -> Option<&ChartFile> {
        ["readme.md", "readme.txt", "readme"]
            .iter()
            .find_map(|want| {
                self.files
                    .iter()
                    .find(|f| f.name.eq_ignore_ascii_case(want))
            })
    }

    /// The subchart with this name (or alias, once processed).
    pub fn dependency(&self, name: &str) -> Option<&Chart> {
        self.dependencies.iter().find(|d| d.name() == name)
    }
}

#[cfg(test)]
mod tests;

/// The chart's `kubeVersion` constraint does not admit the target Kubernetes version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}; \
     pass --kube-version to render for another version"
)]
pub struct KubeVersionMismatch {
    /// The chart's constraint.
    pub constraint: String,
    /// The target version.
    pub version: String,
}

impl Chart {
    /// Checks `kubeVersion` against the target, as Helm does for the chart being
    /// installed or rendered. An invalid constraint never matches.
    pub fn check_kube_version(
        &self,
        version: &crate::k8s::KubeVersion,
    ) -> Result<(), KubeVersionMismatch> {
        let constraint = self.metadata.kube_version.trim();
        if constraint.is_empty() {
            return Ok(());
        }
        let shown = version.to_string();
        if crate::versions::satisfies(constraint, &shown).unwrap_or(false) {
            Ok(())
        } else {
            Err(KubeVersionMismatch {
                constraint: constraint.to_owned(),
                version: shown,
            })
        }
    }
}
