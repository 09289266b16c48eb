//! Kubernetes versions as commands and templates see them (`--kube-version`, `Capabilities`).

use std::fmt;
use std::str::FromStr;

/// The Kubernetes version every command assumes offline: what Helm 4.1.4 reports.
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// A Kubernetes version such as `v1.35.0`, or a provider build like `v1.27.3-gke.100`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    /// Major version number.
    pub major: u64,
    /// Minor version number.
    pub minor: u64,
    /// Patch version number.
    pub patch: u64,
    /// Pre-release or provider suffix after `-` (`gke.100`), empty when none.
    pub pre: String,
}

/// A `--kube-version` that is not a version.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid Kubernetes version {input:?}: expected MAJOR.MINOR[.PATCH], e.g. v1.35.0")]
pub struct KubeVersionError {
    /// What was given.
    pub input: String,
}

impl KubeVersion {
    /// The default version, [`DEFAULT_KUBE_VERSION`].
    pub fn default_version() -> Self {
        KubeVersion {
            major: 1,
            minor: 35,
            patch: 0,
            pre: String::new(),
        }
    }

    /// Parses `v1.35.0`, `1.35`, `1.35.2` or `v1.27.3-gke.100` (the `v` is optional, a
    /// missing patch is 0; build metadata after `+` is ignored).
    pub fn parse(input: &str) -> Result<Self, KubeVersionError> {
        let err = || KubeVersionError {
            input: input.to_owned(),
        };
        let s = input.trim();
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (core, pre) = s.split_once('-').unwrap_or((s, ""));
        let mut parts = core.split('.');
        let mut num = || -> Result<Option<u64>, KubeVersionError> {
            match parts.next() {
                None => Ok(None),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map(Some).map_err(|_| err())
                }
                Some(_) => Err(err()),
            }
        };
        let major = num()?.ok_or_else(err)?;
        let minor = num()?.ok_or_else(err)?;
        let patch = num()?.unwrap_or(0);
        if num()?.is_some() || (s.contains('-') && pre.is_empty()) {
            return Err(err());
        }
        Ok(KubeVersion {
            major,
            minor,
            patch,
            pre: pre.to_owned(),
        })
    }

    /// `v1.35.0` — Helm's `Capabilities.KubeVersion.Version` and `GitVersion`.
    pub fn git_version(&self) -> String {
        self.to_string()
    }

    /// `1.35`: the minor release, which selects a schema set.
    pub fn minor_release(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        Self::default_version()
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        Ok(())
    }
}

impl FromStr for KubeVersion {
    type Err = KubeVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_what_helm_reports_offline() {
        let v = KubeVersion::default();
        assert_eq!(v.to_string(), DEFAULT_KUBE_VERSION);
        assert_eq!(KubeVersion::parse(DEFAULT_KUBE_VERSION), Ok(v));
    }

    #[test]
    fn parses_the_usual_spellings() {
        for (input, shown, minor) in [
            ("v1.35.0", "v1.35.0", "1.35"),
            ("1.31", "v1.31.0", "1.31"),
            ("1.37.4", "v1.37.4", "1.37"),
            ("v1.27.3-gke.100", "v1.27.3-gke.100", "1.27"),
            ("v1.30.1+k3s1", "v1.30.1", "1.30"),
        ] {
            let v = KubeVersion::parse(input).unwrap();
            assert_eq!(v.to_string(), shown, "{input}");
            assert_eq!(v.minor_release(), minor, "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        for bad in [
            "", "v", "1", "one.two", "1.x", "1.2.3.4", "1.2-", "v1..2", "1.-2",
        ] {
            let e = KubeVersion::parse(bad).unwrap_err();
            assert!(e.to_string().contains("MAJOR.MINOR"), "{bad}: {e}");
        }
    }
}
