//! Sprig's `semver` and `semverCompare`, on Masterminds/semver v3 semantics
//! ([`crate::versions`]).
//!
//! Sprig's `semver` returns a `*semver.Version` whose methods templates call
//! (`(semver "1.2.3").Major`); here it is a map with the same names: `Major`, `Minor`,
//! `Patch` (integers), `Prerelease`, `Metadata` and `Original` (strings). Printing the map
//! itself differs from Helm, which prints the normalized version (`1.2.3-beta+m`).

use super::args::{expect_str_literal as str_arg, piped_last as last};
use super::{Func, FuncError, FuncResult};
use crate::value::{Map, Value};
use crate::versions::{Constraints, parse_version};

/// The functions of this module.
pub const FUNCS: &[Func] = &[
    last("semver", semver),
    last("semverCompare", semver_compare),
];

/// Masterminds' error for a string `semver.NewVersion` rejects.
fn version_error(input: &str) -> FuncError {
    let core = input.strip_prefix('v').unwrap_or(input);
    let core = core.split(['-', '+']).next().unwrap_or("");
    for part in core.split('.') {
        if !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u64>().is_err()
        {
            return FuncError::new(format!(
                "error parsing version segment: strconv.ParseUint: parsing \"{part}\": value out of range"
            ));
        }
    }
    if let Some((_, pre)) = input.split_once('-') {
        let pre = pre.split('+').next().unwrap_or("");
        let leading_zero = pre.split('.').any(|id| {
            id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit())
        });
        if leading_zero && parse_version(&input.replace(pre, "x")).is_ok() {
            return FuncError::new("version segment starts with 0");
        }
    }
    FuncError::new("invalid semantic version")
}

/// `semver VERSION`: the parsed version as a map (see the module docs).
fn semver(args: &[Value]) -> FuncResult {
    let [v] = args else {
        return Err(FuncError::new(format!(
            "wrong number of args for semver: want 1 got {}",
            args.len()
        )));
    };
    let input = str_arg(v)?;
    let parsed = parse_version(input).map_err(|_| version_error(input))?;
    let mut m = Map::default();
    let num = |n: u64| i64::try_from(n).map_or(Value::Float(n as f64), Value::Int);
    m.insert("Major".into(), num(parsed.major));
    m.insert("Minor".into(), num(parsed.minor));
    m.insert("Patch".into(), num(parsed.patch));
    m.insert("Prerelease".into(), Value::String(parsed.pre.to_string()));
    m.insert("Metadata".into(), Value::String(parsed.build.to_string()));
    m.insert("Original".into(), Value::String(input.to_owned()));
    Ok(Value::Map(m))
}

/// `semverCompare CONSTRAINT VERSION`: whether the version satisfies the constraint.
fn semver_compare(args: &[Value]) -> FuncResult {
    let [c, v] = args else {
        return Err(FuncError::new(format!(
            "wrong number of args for semverCompare: want 2 got {}",
            args.len()
        )));
    };
    let (constraint, version) = (str_arg(c)?, str_arg(v)?);
    if constraint.trim().is_empty() {
        // Masterminds rejects an empty constraint (pack's own parser reads it as "any").
        return Err(FuncError::new(format!("improper constraint: {constraint}")));
    }
    let constraints = Constraints::parse(constraint).map_err(|e| FuncError::new(e.to_string()))?;
    let version = parse_version(version).map_err(|_| version_error(version))?;
    Ok(Value::Bool(constraints.matches(&version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let v = semver(&[Value::from("v1.2-rc.1+b5")]).unwrap();
        assert_eq!(v.get("Major"), Some(&Value::Int(1)));
        assert_eq!(v.get("Minor"), Some(&Value::Int(2)));
        assert_eq!(v.get("Patch"), Some(&Value::Int(0)));
        assert_eq!(v.get("Prerelease"), Some(&Value::from("rc.1")));
        assert_eq!(v.get("Metadata"), Some(&Value::from("b5")));
        assert_eq!(v.get("Original"), Some(&Value::from("v1.2-rc.1+b5")));
    }

    #[test]
    fn errors() {
        assert_eq!(
            semver(&[Value::from("1.2.3-01")]).unwrap_err().0,
            "version segment starts with 0"
        );
        assert_eq!(
            semver(&[Value::from("x")]).unwrap_err().0,
            "invalid semantic version"
        );
        assert!(semver_compare(&[Value::from(""), Value::from("1.0.0")]).is_err());
    }
}
