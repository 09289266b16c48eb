//! Semantic versions and Helm's version constraints (Masterminds/semver v3 semantics).

mod constraint;
mod version;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

pub use constraint::{ConstraintError, Constraints};
pub use semver::Version;
pub use version::{VersionError, compare, parse_strict, parse_version};

/// Why [`satisfies`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The constraint string is malformed.
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    /// The version string is not a (lenient) semantic version.
    #[error(transparent)]
    Version(#[from] VersionError),
}

/// Whether `version` satisfies `constraint`, both given as text; the
/// argument order is that of Helm's `semverCompare` template function. The
/// version is parsed leniently, so `v1.27.3-gke.100` is accepted.
///
/// # Errors
///
/// [`Error::Constraint`] for a malformed constraint, [`Error::Version`] for
/// a malformed version.
pub fn satisfies(constraint: &str, version: &str) -> Result<bool, Error> {
    let constraints = Constraints::parse(constraint)?;
    Ok(constraints.matches_str(version)?)
}

/// The highest of `versions` (by SemVer precedence, see [`compare`]) that
/// matches `constraints`, as a dependency resolver picks it. Among versions
/// that differ only in build metadata the first one wins. `None` when no
/// version matches.
#[must_use]
pub fn highest_match<'a, I>(constraints: &Constraints, versions: I) -> Option<&'a Version>
where
    I: IntoIterator<Item = &'a Version>,
{
    versions
        .into_iter()
        .filter(|version| constraints.matches(version))
        .fold(None, |best, version| match best {
            Some(best) if compare(version, best) != Ordering::Greater => Some(best),
            _ => Some(version),
        })
}
