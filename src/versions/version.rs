//! Parsing and ordering of single versions.
//!
//! Two parsers are offered. [`parse_version`] is lenient in the way Helm's
//! `semver.NewVersion` (Masterminds/semver v3) is: a leading `v`, partial
//! versions such as `1` or `1.2`, and leading zeros in the numeric parts are
//! accepted and coerced into a full version. [`parse_strict`] accepts exactly
//! SemVer 2.0.0, which is what chart versions must be.

use std::cmp::Ordering;

use semver::{BuildMetadata, Prerelease, Version};

/// A string that could not be read as a semantic version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semantic version {input:?}: {reason}")]
pub struct VersionError {
    input: String,
    reason: String,
}

impl VersionError {
    pub(super) fn new(input: &str, reason: impl Into<String>) -> Self {
        Self {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    /// The text that failed to parse.
    #[must_use]
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why the text is not a valid version.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Parses a version leniently, the way Helm's `semver.NewVersion` does.
///
/// Accepted on top of SemVer 2.0.0: a leading lowercase `v` (`v1.2.3`),
/// missing minor or patch numbers (`1` is `1.0.0`, `1.2-rc.1` is
/// `1.2.0-rc.1`) and leading zeros in the numeric parts (`01.02.03` is
/// `1.2.3`). Pre-release identifiers and build metadata must still be valid
/// SemVer, and no surrounding whitespace is allowed.
///
/// # Errors
///
/// A [`VersionError`] naming the input when it is not such a version.
pub fn parse_version(input: &str) -> Result<Version, VersionError> {
    let parts = split_parts(input).map_err(|reason| VersionError::new(input, reason))?;
    let mut numbers = [0_u64; 3];
    for (slot, segment) in numbers.iter_mut().zip(&parts.segments) {
        *slot = parse_number(segment).map_err(|reason| VersionError::new(input, reason))?;
    }
    let [major, minor, patch] = numbers;
    Ok(Version {
        major,
        minor,
        patch,
        pre: parse_prerelease(parts.pre).map_err(|reason| VersionError::new(input, reason))?,
        build: parse_build(parts.build).map_err(|reason| VersionError::new(input, reason))?,
    })
}

/// Parses a version that must be exactly SemVer 2.0.0: three numeric parts
/// without leading zeros, no `v` prefix, optional pre-release and build
/// metadata. Helm's lint holds chart versions to this.
///
/// # Errors
///
/// A [`VersionError`] naming the input when it is not valid SemVer 2.0.0.
pub fn parse_strict(input: &str) -> Result<Version, VersionError> {
    Version::parse(input).map_err(|err| VersionError::new(input, err.to_string()))
}

/// Orders two versions by SemVer precedence: major, minor, patch, then
/// pre-release. Build metadata is ignored, so `1.2.3+a` and `1.2.3+b` are
/// `Equal` (unlike `Ord` on [`semver::Version`], which breaks the tie on the
/// metadata).
#[must_use]
pub fn compare(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// The pieces of a version-like string, split but not yet validated: one to
/// three dot-separated numeric segments (which may be wildcards in a
/// constraint), the pre-release and the build metadata (empty when absent).
#[derive(Debug)]
pub(super) struct Parts<'a> {
    pub(super) segments: Vec<&'a str>,
    pub(super) pre: &'a str,
    pub(super) build: &'a str,
}

/// Splits `v1.2.3-pre+build` into its parts. The leading `v` is optional;
/// the pre-release starts at the first `-` before any `+`.
pub(super) fn split_parts(input: &str) -> Result<Parts<'_>, &'static str> {
    let text = input.strip_prefix('v').unwrap_or(input);
    let (text, build) = split_suffix(text, '+').ok_or("empty build metadata")?;
    let (core, pre) = split_suffix(text, '-').ok_or("empty pre-release")?;
    if core.is_empty() {
        return Err("missing major version number");
    }
    let segments: Vec<&str> = core.split('.').collect();
    if segments.len() > 3 {
        return Err("more than three numeric parts");
    }
    if segments.iter().any(|segment| segment.is_empty()) {
        return Err("empty numeric part");
    }
    Ok(Parts {
        segments,
        pre,
        build,
    })
}

/// Splits `text` at the first `separator`. The suffix is empty when the
/// separator is absent; `None` means the separator was there with nothing
/// after it.
fn split_suffix(text: &str, separator: char) -> Option<(&str, &str)> {
    match text.split_once(separator) {
        None => Some((text, "")),
        Some((_, "")) => None,
        Some(split) => Some(split),
    }
}

/// Parses one numeric part. Leading zeros are accepted, as Masterminds'
/// coercing parser does.
pub(super) fn parse_number(segment: &str) -> Result<u64, &'static str> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return Err("numeric part is not a number");
    }
    segment.parse().map_err(|_| "numeric part is too large")
}

/// Validates a pre-release (without its `-`); empty means none.
pub(super) fn parse_prerelease(pre: &str) -> Result<Prerelease, String> {
    Prerelease::new(pre).map_err(|err| err.to_string())
}

/// Validates build metadata (without its `+`); empty means none.
pub(super) fn parse_build(build: &str) -> Result<BuildMetadata, String> {
    BuildMetadata::new(build).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u64, minor: u64, patch: u64, pre: &str, build: &str) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Prerelease::new(pre).expect("test pre-release"),
            build: BuildMetadata::new(build).expect("test build metadata"),
        }
    }

    #[test]
    fn lenient_accepts_and_coerces() {
        let cases = [
            ("1", v(1, 0, 0, "", "")),
            ("1.2", v(1, 2, 0, "", "")),
            ("1.2.3", v(1, 2, 3, "", "")),
            ("v1.2.3", v(1, 2, 3, "", "")),
            ("v1", v(1, 0, 0, "", "")),
            ("0.0.0", v(0, 0, 0, "", "")),
            ("01.02.03", v(1, 2, 3, "", "")),
            ("1.2.3-beta.1", v(1, 2, 3, "beta.1", "")),
            ("1.2.3+build.5", v(1, 2, 3, "", "build.5")),
            ("1.2.3-rc.1+build.5", v(1, 2, 3, "rc.1", "build.5")),
            ("1.2-rc.1", v(1, 2, 0, "rc.1", "")),
            ("1+meta", v(1, 0, 0, "", "meta")),
            ("1.2.3-0", v(1, 2, 3, "0", "")),
            ("1.2.3+001", v(1, 2, 3, "", "001")),
            ("1.2.3-x-y-z.--", v(1, 2, 3, "x-y-z.--", "")),
            ("v1.27.3-gke.100", v(1, 27, 3, "gke.100", "")),
            ("1.21.5-eks-bc4871b", v(1, 21, 5, "eks-bc4871b", "")),
            ("v1.28.2+k3s1", v(1, 28, 2, "", "k3s1")),
            (
                "18446744073709551615.0.0",
                v(18_446_744_073_709_551_615, 0, 0, "", ""),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_version(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn lenient_rejects_garbage() {
        let cases = [
            "",
            "v",
            "V1.2.3",
            "vv1.2.3",
            "1.2.3.4",
            "1..2",
            "1.2.",
            ".1.2",
            "a.b.c",
            "1.2.x",
            "*",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3-beta_1",
            "1.2.3+meta+more",
            "1.2.3 ",
            " 1.2.3",
            "-1.2.3",
            "1.2.3-beta!",
            "18446744073709551616.0.0",
            "1.-2.3",
        ];
        for input in cases {
            assert!(parse_version(input).is_err(), "input {input:?} should fail");
        }
    }

    #[test]
    fn strict_accepts_semver_2_only() {
        let cases = [
            ("1.2.3", v(1, 2, 3, "", "")),
            ("0.0.0", v(0, 0, 0, "", "")),
            ("10.20.30", v(10, 20, 30, "", "")),
            ("1.2.3-alpha.1+build.7", v(1, 2, 3, "alpha.1", "build.7")),
            ("1.0.0-0A.is.legal", v(1, 0, 0, "0A.is.legal", "")),
            ("1.0.0+001", v(1, 0, 0, "", "001")),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_strict(input), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn strict_rejects_what_lenient_coerces() {
        let cases = [
            "v1.2.3", "1.2", "1", "01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3.4", "",
            "1.2.3-", "1.2.3+", " 1.2.3", "1.2.3 ", "1.2.x",
        ];
        for input in cases {
            assert!(parse_strict(input).is_err(), "input {input:?} should fail");
        }
    }

    #[test]
    fn error_names_the_input() {
        let err = parse_version("1.2.foo").expect_err("must fail");
        assert_eq!(err.input(), "1.2.foo");
        assert!(
            err.to_string()
                .starts_with("invalid semantic version \"1.2.foo\"")
        );
        let err = parse_strict("v1.2.3").expect_err("must fail");
        assert!(
            err.to_string()
                .starts_with("invalid semantic version \"v1.2.3\"")
        );
    }

    #[test]
    fn ordering_follows_semver_precedence() {
        // The chain from the SemVer 2.0.0 specification, section 11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.9.0",
            "1.10.0",
            "2.0.0-0",
            "2.0.0",
        ];
        for pair in chain.windows(2) {
            let (a, b) = (parse_version(pair[0]), parse_version(pair[1]));
            let (a, b) = (a.expect("valid"), b.expect("valid"));
            assert_eq!(compare(&a, &b), Ordering::Less, "{} < {}", pair[0], pair[1]);
            assert_eq!(
                compare(&b, &a),
                Ordering::Greater,
                "{} > {}",
                pair[1],
                pair[0]
            );
        }
    }

    #[test]
    fn ordering_ignores_build_metadata() {
        let cases = [
            ("1.2.3+a", "1.2.3+b", Ordering::Equal),
            ("1.2.3", "1.2.3+build.1", Ordering::Equal),
            ("1.2.3-rc.1+x", "1.2.3-rc.1+y", Ordering::Equal),
            ("v1.2.3", "1.2.3", Ordering::Equal),
            ("1.2", "1.2.0+z", Ordering::Equal),
            ("1.2.3+zzz", "1.2.4+aaa", Ordering::Less),
            ("1.2.3-rc.1+zzz", "1.2.3+aaa", Ordering::Less),
        ];
        for (a, b, expected) in cases {
            let (va, vb) = (parse_version(a), parse_version(b));
            let (va, vb) = (va.expect("valid"), vb.expect("valid"));
            assert_eq!(compare(&va, &vb), expected, "{a} vs {b}");
        }
    }
}
