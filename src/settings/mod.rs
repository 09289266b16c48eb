//! Where pack keeps things and which cluster it talks to: the settings every command shares,
//! from global flags, `PACK_*` environment variables and the platform's conventions.

use std::env;
use std::path::{Path, PathBuf};

/// Environment variable overriding the cache directory.
pub const ENV_CACHE_HOME: &str = "PACK_CACHE_HOME";
/// Environment variable overriding the configuration directory.
pub const ENV_CONFIG_HOME: &str = "PACK_CONFIG_HOME";
/// Environment variable overriding the data directory.
pub const ENV_DATA_HOME: &str = "PACK_DATA_HOME";
/// Environment variable giving the default namespace (like Helm's `HELM_NAMESPACE`).
pub const ENV_NAMESPACE: &str = "PACK_NAMESPACE";

/// The three directories pack uses, resolved like Helm's: a `PACK_*_HOME` variable, then
/// the XDG variable plus `/pack`, then the platform default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    /// Downloaded indexes and charts; safe to delete.
    pub cache: PathBuf,
    /// Repositories list, registry credentials.
    pub config: PathBuf,
    /// Starters, plugins, and the embedded cluster's data.
    pub data: PathBuf,
}

impl Dirs {
    /// Resolves the directories from the process environment.
    pub fn from_env() -> Self {
        Self::resolve(|k| env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from))
    }

    /// Resolves the directories with `lookup` standing in for the environment.
    pub fn resolve(lookup: impl Fn(&str) -> Option<PathBuf>) -> Self {
        let home = lookup("HOME").unwrap_or_else(|| PathBuf::from("."));
        let pick = |own: &str, xdg: &str, default: &dyn Fn(&Path) -> PathBuf| {
            lookup(own)
                .or_else(|| lookup(xdg).map(|d| d.join("pack")))
                .unwrap_or_else(|| default(&home))
        };
        Dirs {
            cache: pick(ENV_CACHE_HOME, "XDG_CACHE_HOME", &platform::cache),
            config: pick(ENV_CONFIG_HOME, "XDG_CONFIG_HOME", &platform::config),
            data: pick(ENV_DATA_HOME, "XDG_DATA_HOME", &platform::data),
        }
    }

    /// Cached repository indexes (`pack repo update`).
    pub fn repository_cache(&self) -> PathBuf {
        self.cache.join("repository")
    }

    /// The list of chart repositories (`pack repo add`).
    pub fn repository_config(&self) -> PathBuf {
        self.config.join("repositories.yaml")
    }

    /// OCI registry credentials (`pack registry login`).
    pub fn registry_config(&self) -> PathBuf {
        self.config.join("registry").join("config.json")
    }

    /// The embedded cluster's data, used when no kubeconfig exists.
    pub fn cluster_data(&self) -> PathBuf {
        self.data.join("cluster")
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::path::{Path, PathBuf};
    pub fn cache(home: &Path) -> PathBuf {
        home.join("Library/Caches/pack")
    }
    pub fn config(home: &Path) -> PathBuf {
        home.join("Library/Preferences/pack")
    }
    pub fn data(home: &Path) -> PathBuf {
        home.join("Library/pack")
    }
}

#[cfg(not(target_os = "macos"))]
mod platform {
    use std::path::{Path, PathBuf};
    pub fn cache(home: &Path) -> PathBuf {
        home.join(".cache/pack")
    }
    pub fn config(home: &Path) -> PathBuf {
        home.join(".config/pack")
    }
    pub fn data(home: &Path) -> PathBuf {
        home.join(".local/share/pack")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn dirs(vars: &[(&str, &str)]) -> Dirs {
        let map: HashMap<String, PathBuf> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), PathBuf::from(v)))
            .collect();
        Dirs::resolve(|k| map.get(k).cloned())
    }

    #[test]
    fn pack_variables_win_over_xdg_over_defaults() {
        let d = dirs(&[
            ("HOME", "/home/u"),
            ("PACK_CACHE_HOME", "/c"),
            ("XDG_CACHE_HOME", "/xdg-cache"),
            ("XDG_CONFIG_HOME", "/xdg-config"),
        ]);
        assert_eq!(d.cache, PathBuf::from("/c"));
        assert_eq!(d.config, PathBuf::from("/xdg-config/pack"));
        if cfg!(target_os = "linux") {
            assert_eq!(d.data, PathBuf::from("/home/u/.local/share/pack"));
        }
        assert_eq!(
            d.repository_config(),
            PathBuf::from("/xdg-config/pack/repositories.yaml")
        );
        assert_eq!(d.repository_cache(), PathBuf::from("/c/repository"));
    }
}
