//! YAML reading in two flavours (YAML 1.2 core for native charts, YAML 1.1 for Helm charts
//! and Kubernetes manifests) and YAML writing that Kubernetes reads back unchanged.

use super::Value;
use serde_saphyr::options::{DuplicateKeyPolicy, NonFiniteFloatPolicy};
use std::fmt;

/// Which YAML schema decides what a plain scalar means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// YAML 1.2 core schema: only `true`/`false` are booleans, so `on:`, `y:` and `yes`
    /// stay strings; `0755` is the integer 755 and `0o755` is octal. Native charts use it.
    Core12,
    /// YAML 1.1 as Go's yaml.v2 reads it (Helm, kubectl, the API server): `yes`/`no`/`on`/
    /// `off`/`y`/`n` are booleans, `0755` is octal 493, `1_000` is 1000.
    Yaml11,
}

/// A YAML document that could not be read, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What is wrong, in the parser's words.
    pub message: String,
    /// 1-based line of the problem, when known.
    pub line: Option<u64>,
    /// 1-based column of the problem, when known.
    pub column: Option<u64>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for YamlError {}

fn options(flavor: Flavor) -> serde_saphyr::Options {
    // Options is non-exhaustive: start from the defaults and set what the flavour decides.
    let mut o = serde_saphyr::Options::default();
    o.duplicate_keys = match flavor {
        // A duplicate key in a native chart's YAML is a mistake worth stopping for.
        Flavor::Core12 => DuplicateKeyPolicy::Error,
        // Helm and Kubernetes read through Go maps, where the last key wins.
        Flavor::Yaml11 => DuplicateKeyPolicy::LastWins,
    };
    o.strict_booleans = flavor == Flavor::Core12;
    o.legacy_octal_numbers = flavor == Flavor::Yaml11;
    // YAML 1.2 has no underscores in numbers. A leading-zero number such as `0755` is
    // decimal 755 in YAML 1.2 but octal in YAML 1.1; reading it either way silently gives a
    // Kubernetes file mode nobody meant, so native charts keep it as the string "0755"
    // (write `0o755` for octal, `755` for decimal).
    o.leading_zero_numbers_as_strings = flavor == Flavor::Core12;
    o.underscored_numbers_as_strings = flavor == Flavor::Core12;
    o.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    o.with_snippet = false;
    // Comments are not needed, and buffering them has a budget that long commented-out
    // blocks (common in values.yaml files) exceed.
    o.emit_comments = false;
    o
}

fn convert_error(e: serde_saphyr::Error) -> YamlError {
    let location = e.location();
    let mut message = e.to_string();
    // The crate appends its own position; keep ours in separate fields.
    if let Some(idx) = message.find(" at line ") {
        message.truncate(idx);
    }
    YamlError {
        message,
        line: location.as_ref().map(|l| l.line()).filter(|&l| l > 0),
        column: location.as_ref().map(|l| l.column()).filter(|&c| c > 0),
    }
}

/// Reads one YAML document. An empty document is `Null`.
pub fn from_str(src: &str, flavor: Flavor) -> Result<Value, YamlError> {
    if is_blank(src) {
        return Ok(Value::Null);
    }
    if let Ok(mut docs) = super::fastyaml::read_documents(src, flavor)
        && docs.len() == 1
    {
        let v = docs.pop().unwrap_or_default();
        #[cfg(debug_assertions)]
        cross_check(src, flavor, std::slice::from_ref(&v), false);
        return Ok(v);
    }
    from_str_full(src, flavor)
}

/// Reads one document with the full parser alone (serde-saphyr), bypassing the fast reader:
/// the fallback of every reading here, and what comparisons of the two readers call.
pub fn from_str_full(src: &str, flavor: Flavor) -> Result<Value, YamlError> {
    serde_saphyr::from_str_with_options(src, options(flavor)).map_err(convert_error)
}

pub(super) fn full_parse_multi(src: &str, flavor: Flavor) -> Result<Vec<Value>, YamlError> {
    serde_saphyr::from_multiple_with_options(src, options(flavor)).map_err(convert_error)
}

/// Reads the first document of a stream and ignores the rest, as Go's YAML readers
/// (`yaml.Unmarshal`, so Helm's `fromYaml`) do.
pub fn from_str_first(src: &str, flavor: Flavor) -> Result<Value, YamlError> {
    if is_blank(src) {
        return Ok(Value::Null);
    }
    if let Ok(docs) = super::fastyaml::read_documents(src, flavor) {
        match docs.first() {
            None => return Ok(Value::Null),
            Some(first) if !first.is_null() || docs.len() == 1 => {
                #[cfg(debug_assertions)]
                cross_check(src, flavor, &docs, true);
                return Ok(first.clone());
            }
            Some(_) => {}
        }
    }
    // The fast reader has had its say: straight to the full parser.
    match from_str_full(src, flavor) {
        Err(e) if e.message.contains("multiple YAML documents") => {
            let docs = full_parse_multi(src, flavor).map_err(|_| e)?;
            Ok(docs.into_iter().next().unwrap_or(Value::Null))
        }
        other => other,
    }
}

/// Reads a stream of `---`-separated documents; empty documents are dropped.
pub fn from_str_multi(src: &str, flavor: Flavor) -> Result<Vec<Value>, YamlError> {
    if is_blank(src) {
        return Ok(Vec::new());
    }
    let docs = match super::fastyaml::read_documents(src, flavor) {
        Ok(docs) => {
            #[cfg(debug_assertions)]
            cross_check(src, flavor, &docs, true);
            docs
        }
        Err(_) => full_parse_multi(src, flavor)?,
    };
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Debug builds check every document the fast reader accepted against serde-saphyr, so the
/// whole test suite guards their agreement.
#[cfg(debug_assertions)]
fn cross_check(src: &str, flavor: Flavor, fast: &[Value], multi: bool) {
    let full = if multi {
        full_parse_multi(src, flavor)
    } else {
        from_str_full(src, flavor).map(|v| vec![v])
    };
    let non_null = |docs: &[Value]| docs.iter().filter(|d| !d.is_null()).cloned().collect();
    let fast: Vec<Value> = non_null(fast);
    let agree = match &full {
        Ok(full) => {
            let full: Vec<Value> = non_null(full);
            full.len() == fast.len() && full.iter().zip(&fast).all(|(a, b)| same(a, b))
        }
        Err(_) => false,
    };
    assert!(
        agree,
        "the fast YAML reader and serde-saphyr disagree ({flavor:?}) on {src:?}:\nfast: {fast:?}\nfull: {full:?}"
    );
}

/// Equality that tells integers from floats, compares floats bit for bit and keys in order.
#[cfg(any(test, debug_assertions))]
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan()
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

/// True when the text holds no YAML content (only whitespace, comments and markers).
fn is_blank(src: &str) -> bool {
    src.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Writes a value as a YAML document (no leading `---`), keys in their order, strings
/// quoted wherever a YAML 1.1 reader (kubectl, the API server, Helm) would otherwise see
/// a boolean, number, null or timestamp, whole floats as integers, no line folding.
pub fn to_string(v: &Value) -> String {
    super::emit::emit(v, &super::emit::EmitOptions::kubernetes())
}

/// Whether the fast reader reads `src` itself rather than handing it to the full parser
/// (for tests and measurements of its coverage).
pub fn fast_reader_accepts(src: &str, flavor: Flavor) -> bool {
    super::fastyaml::read_documents(src, flavor).is_ok()
}
