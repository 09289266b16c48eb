//! Helm's version constraint language (Masterminds/semver v3 semantics).
//!
//! A constraint string is a list of OR groups separated by `||`. Each group
//! is a list of comparators that must all match (AND), separated by commas
//! and/or whitespace. A comparator is an optional operator followed by a
//! version that may be partial (`1.2`) or hold wildcards (`1.x`, `1.2.*`).
//! `A - B` (spaces required around the hyphen) is the range `>=A <=B`.
//!
//! Pre-release rule: a version with a pre-release matches a group only when
//! at least one comparator of that group has a pre-release itself; that is
//! why charts write `kubeVersion: ">=1.21.0-0"` to accept `1.27.3-gke.100`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::Version;

use super::version::{
    VersionError, compare, parse_build, parse_number, parse_prerelease, parse_version, split_parts,
};

/// A constraint string that does not follow the constraint syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// The named part of the constraint could not be parsed. The wording is
    /// Masterminds' (`improper constraint: %s`).
    #[error("improper constraint: {0}")]
    Improper(String),
}

fn improper(part: &str) -> ConstraintError {
    ConstraintError::Improper(part.trim_ascii().to_owned())
}

/// Parsed version constraints such as `>=1.21.0-0` or `^1.2 || ~2.0.3`.
///
/// `Display` gives back the text the constraints were parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraints {
    source: String,
    groups: Vec<Group>,
}

/// Comparators that must all match, plus whether the group lets
/// pre-release versions through.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    comparators: Vec<Comparator>,
    allows_prerelease: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `=` or no operator.
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=` or `=>`
    Ge,
    /// `<=` or `=<`
    Le,
    /// `~` or `~>`
    Tilde,
    /// `^`
    Caret,
}

/// Operators, two-character ones first so that the longest one wins.
const OPERATORS: [(&str, Op); 11] = [
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("=>", Op::Ge),
    ("<=", Op::Le),
    ("=<", Op::Le),
    ("~>", Op::Tilde),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("~", Op::Tilde),
    ("^", Op::Caret),
];

/// How much of the comparator's version was written as numbers. Missing or
/// wildcard parts (and everything after a wildcard) are stored as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    /// `*`, `x`, `X`: the major part is a wildcard.
    Any,
    /// `1`, `1.x`: only the major part is known.
    Major,
    /// `1.2`, `1.2.x`: major and minor are known.
    MajorMinor,
    /// `1.2.3`: a complete version.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
    precision: Precision,
}

impl Constraints {
    /// Parses a constraint string. An empty (or all-whitespace) string
    /// means any version, like `*`.
    ///
    /// # Errors
    ///
    /// [`ConstraintError::Improper`] naming the comparator or group that
    /// does not follow the syntax.
    pub fn parse(input: &str) -> Result<Self, ConstraintError> {
        let groups = if input.trim_ascii().is_empty() {
            vec![Group::any()]
        } else {
            input
                .split("||")
                .map(|group| parse_group(group, input))
                .collect::<Result<_, _>>()?
        };
        Ok(Self {
            source: input.to_owned(),
            groups,
        })
    }

    /// Whether `version` satisfies at least one OR group.
    #[must_use]
    pub fn matches(&self, version: &Version) -> bool {
        self.groups.iter().any(|group| group.matches(version))
    }

    /// Parses `version` leniently (like Helm's `semver.NewVersion`) and
    /// checks it against the constraints.
    ///
    /// # Errors
    ///
    /// A [`VersionError`] when `version` is not a (lenient) version.
    pub fn matches_str(&self, version: &str) -> Result<bool, VersionError> {
        parse_version(version).map(|version| self.matches(&version))
    }

    /// The text the constraints were parsed from.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Constraints {
    type Err = ConstraintError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl Group {
    /// The group an empty constraint stands for: `*`.
    fn any() -> Self {
        Self::new(vec![Comparator {
            op: Op::Eq,
            version: Version::new(0, 0, 0),
            precision: Precision::Any,
        }])
    }

    fn new(comparators: Vec<Comparator>) -> Self {
        let allows_prerelease = comparators.iter().any(|c| !c.version.pre.is_empty());
        Self {
            comparators,
            allows_prerelease,
        }
    }

    fn matches(&self, version: &Version) -> bool {
        if !version.pre.is_empty() && !self.allows_prerelease {
            return false;
        }
        self.comparators.iter().all(|c| c.matches(version))
    }
}

/// A cursor over one OR group. All the delimiters are ASCII, so every
/// position it stops at is a character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    /// Skips whitespace; tells whether there was any.
    fn skip_whitespace(&mut self) -> bool {
        let rest = self.rest();
        let skipped = rest.len() - rest.trim_ascii_start().len();
        self.pos += skipped;
        skipped > 0
    }

    fn eat(&mut self, prefix: &str) -> bool {
        let found = self.rest().starts_with(prefix);
        if found {
            self.pos += prefix.len();
        }
        found
    }

    fn operator(&mut self) -> Option<Op> {
        OPERATORS
            .iter()
            .find(|(token, _)| self.eat(token))
            .map(|&(_, op)| op)
    }

    /// Takes the version text: everything up to whitespace, a comma or the
    /// end. Anything stray in it (`>1<2`) makes the version invalid.
    fn word(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c == ',' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// After a bare version, consumes ` - ` and the version after it if a
    /// hyphen range follows; otherwise leaves the cursor where it was.
    fn range_end(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.skip_whitespace() && self.eat("-") && self.skip_whitespace() {
            let upper = self.word();
            if !upper.is_empty() {
                return Some(upper);
            }
        }
        self.pos = start;
        None
    }
}

/// Parses one OR group of `whole`: comparators separated by whitespace
/// and/or a comma. An empty group is reported with the whole constraint.
fn parse_group(text: &str, whole: &str) -> Result<Group, ConstraintError> {
    let mut cursor = Cursor { text, pos: 0 };
    let mut comparators = Vec::new();
    cursor.skip_whitespace();
    if cursor.at_end() {
        return Err(improper(whole));
    }
    loop {
        parse_item(&mut cursor, &mut comparators)?;
        cursor.skip_whitespace();
        if cursor.at_end() {
            return Ok(Group::new(comparators));
        }
        // `word` stops only at whitespace, a comma or the end, so what is
        // left here is a comma, optionally surrounded by whitespace.
        if cursor.eat(",") {
            cursor.skip_whitespace();
            if cursor.at_end() {
                return Err(improper(text));
            }
        }
    }
}

/// Parses one comparator, or a hyphen range (two comparators), at the cursor.
fn parse_item(cursor: &mut Cursor<'_>, out: &mut Vec<Comparator>) -> Result<(), ConstraintError> {
    let start = cursor.pos;
    let op = cursor.operator();
    cursor.skip_whitespace();
    let word = cursor.word();
    if word.is_empty() {
        // A dangling operator or a stray comma: name the whole group.
        return Err(improper(cursor.text));
    }
    let written = &cursor.text[start..cursor.pos];
    if op.is_none()
        && let Some(upper) = cursor.range_end()
    {
        let range = &cursor.text[start..cursor.pos];
        out.push(Comparator::parse(Op::Ge, word).ok_or_else(|| improper(range))?);
        out.push(Comparator::parse(Op::Le, upper).ok_or_else(|| improper(range))?);
        return Ok(());
    }
    let comparator =
        Comparator::parse(op.unwrap_or(Op::Eq), word).ok_or_else(|| improper(written))?;
    out.push(comparator);
    Ok(())
}

fn is_wildcard(segment: &str) -> bool {
    matches!(segment, "x" | "X" | "*")
}

impl Comparator {
    /// Builds a comparator from an operator and its version text, which may
    /// be partial or hold wildcards. `None` when the version is invalid.
    fn parse(op: Op, text: &str) -> Option<Self> {
        let parts = split_parts(text).ok()?;
        let syntactic = |s: &&str| is_wildcard(s) || s.bytes().all(|b| b.is_ascii_digit());
        if !parts.segments.iter().all(syntactic) {
            return None;
        }
        let known = parts
            .segments
            .iter()
            .position(|s| is_wildcard(s))
            .unwrap_or(parts.segments.len());
        let mut numbers = [0_u64; 3];
        for (slot, segment) in numbers.iter_mut().zip(&parts.segments[..known]) {
            *slot = parse_number(segment).ok()?;
        }
        let precision = match known {
            0 => Precision::Any,
            1 => Precision::Major,
            2 => Precision::MajorMinor,
            _ => Precision::Full,
        };
        let [major, minor, patch] = numbers;
        let version = Version {
            major,
            minor,
            patch,
            pre: parse_prerelease(parts.pre).ok()?,
            build: parse_build(parts.build).ok()?,
        };
        Some(Self {
            op,
            version,
            precision,
        })
    }

    /// Checks one version; the group has already applied the pre-release
    /// rule.
    fn matches(&self, v: &Version) -> bool {
        match self.op {
            Op::Eq => self.equal(v),
            Op::Ne => self.not_equal(v),
            Op::Gt => self.greater(v),
            Op::Lt => compare(v, &self.version) == Ordering::Less,
            Op::Ge => compare(v, &self.version) != Ordering::Less,
            Op::Le => self.less_or_equal(v),
            Op::Tilde => self.tilde(v),
            Op::Caret => self.caret(v),
        }
    }

    /// `=1.2.3` is exact; a partial or wildcard version is a tilde range
    /// (`=1.2` is `~1.2`, `1.x` is `~1`, `*` is anything).
    fn equal(&self, v: &Version) -> bool {
        match self.precision {
            Precision::Full => compare(v, &self.version) == Ordering::Equal,
            _ => self.tilde(v),
        }
    }

    /// `!=1.2` excludes all of 1.2.x and `!=1.x` all of 1.x.x. Masterminds
    /// quirk kept: `!=*` only excludes 0.0.0.
    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.precision {
            Precision::Full | Precision::Any => compare(v, c) != Ordering::Equal,
            Precision::Major => v.major != c.major,
            Precision::MajorMinor => v.major != c.major || v.minor != c.minor || v.pre != c.pre,
        }
    }

    /// `>1.2` means above all of 1.2.x (so `>=1.3.0`), `>1` above all of
    /// 1.x.x. `>*` behaves as `>0.0.0`.
    fn greater(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.precision {
            Precision::Full | Precision::Any => compare(v, c) == Ordering::Greater,
            Precision::Major => v.major > c.major,
            Precision::MajorMinor => (v.major, v.minor) > (c.major, c.minor),
        }
    }

    /// `<=1.2` includes all of 1.2.x (so `<1.3.0`). Masterminds quirk kept:
    /// `<=*` only matches 0.0.x.
    fn less_or_equal(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.precision {
            Precision::Full => compare(v, c) != Ordering::Greater,
            Precision::Major => v.major <= c.major,
            Precision::MajorMinor => (v.major, v.minor) <= (c.major, c.minor),
            Precision::Any => v.major == 0 && v.minor == 0,
        }
    }

    /// `~1.2.3` is `>=1.2.3 <1.3.0`, `~1.2` is `>=1.2.0 <1.3.0`, `~1` is
    /// `>=1.0.0 <2.0.0`; `~0.0.0` and `~*` match anything.
    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if compare(v, c) == Ordering::Less {
            return false;
        }
        let zero = (c.major, c.minor, c.patch) == (0, 0, 0);
        if zero && matches!(self.precision, Precision::Full | Precision::Any) {
            return true;
        }
        v.major == c.major && (self.precision == Precision::Major || v.minor == c.minor)
    }

    /// `^1.2.3` is `>=1.2.3 <2.0.0`, `^0.2.3` is `>=0.2.3 <0.3.0`, `^0.0.3`
    /// is `>=0.0.3 <0.0.4`, `^0.0` is `<0.1.0`, `^0` is `<1.0.0`.
    /// Masterminds quirk kept: `^*` only matches 0.0.0.
    fn caret(&self, v: &Version) -> bool {
        let c = &self.version;
        if compare(v, c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.precision == Precision::Major {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.precision == Precision::MajorMinor {
            return v.minor == c.minor;
        }
        v.minor == 0 && v.patch == c.patch
    }
}
