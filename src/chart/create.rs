//! `pack create`: a new native chart with the same objects as `helm create`'s scaffold
//! (Deployment, Service, ServiceAccount, Ingress, HTTPRoute, HPA, a test hook, NOTES.txt).

use std::path::{Path, PathBuf};

/// The scaffold's files: path in the chart, and text with `<CHARTNAME>` placeholders.
const SCAFFOLD: &[(&str, &str)] = &[
    ("Chart.yaml", include_str!("scaffold/Chart.yaml")),
    ("values.yaml", include_str!("scaffold/values.yaml")),
    (".helmignore", include_str!("scaffold/helmignore")),
    (
        "templates/_helpers.tpl",
        include_str!("scaffold/templates/_helpers.tpl"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("scaffold/templates/deployment.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("scaffold/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("scaffold/templates/serviceaccount.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("scaffold/templates/ingress.yaml"),
    ),
    (
        "templates/httproute.yaml",
        include_str!("scaffold/templates/httproute.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("scaffold/templates/hpa.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("scaffold/templates/NOTES.txt"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_str!("scaffold/templates/tests/test-connection.yaml"),
    ),
];

/// Why a chart could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The name cannot be a chart name.
    #[error(
        "{0:?} is not a valid chart name: use lowercase letters, digits and '-', starting with a letter or digit"
    )]
    BadName(String),
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Creates the chart directory `path` (its last component is the chart name), overwriting
/// scaffold files that exist, and returns the directory.
pub fn create(path: &Path) -> Result<PathBuf, CreateError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().next().is_some_and(|b| b != b'-');
    if !valid {
        return Err(CreateError::BadName(name));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CreateError::Io { path, source }
    };
    std::fs::create_dir_all(path.join("charts")).map_err(io(path))?;
    for (rel, text) in SCAFFOLD {
        let file = path.join(rel);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&file, text.replace("<CHARTNAME>", &name)).map_err(io(&file))?;
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_loadable_native_chart() {
        let dir = tempfile::tempdir().unwrap();
        let chart = create(&dir.path().join("shop-api")).unwrap();
        let loaded = crate::chart::load(&chart).unwrap();
        assert_eq!(loaded.name(), "shop-api");
        assert_eq!(loaded.engine(), crate::chart::Engine::Native);
        assert_eq!(loaded.templates.len(), 9);
        let helpers = std::fs::read_to_string(chart.join("templates/_helpers.tpl")).unwrap();
        assert!(helpers.contains("\"shop-api.fullname\"") && !helpers.contains("<CHARTNAME>"));
    }

    #[test]
    fn refuses_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["Shop", "-x", "a_b", "a.b"] {
            let err = create(&dir.path().join(bad)).unwrap_err();
            assert!(
                err.to_string().contains("not a valid chart name"),
                "{bad}: {err}"
            );
        }
    }
}
