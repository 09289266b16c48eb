//! Offline validation of Kubernetes objects against the bundled OpenAPI schemas of the
//! target version and against CRD schemas: kinds that exist, required fields, types,
//! enums, quantities, unknown fields (strict by default) with "did you mean", names per
//! kind, duplicates, and removed APIs named with their successor.

pub mod crds;
mod removed;
pub mod report;
pub mod rules;

use crate::k8s::{KubeVersion, SchemaError, Schemas};
use crate::value::Value;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// One problem with an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the field (`spec.replicas`, `spec.template.spec.containers[0].image`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// What validation of one object found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The object matches its schema.
    Valid,
    /// No schema: a custom resource whose CRD pack has not been given.
    Skipped(String),
    /// The problems found.
    Invalid(Vec<Problem>),
}

/// Validates objects of one Kubernetes version; compiled schemas are cached per kind.
pub struct Validator {
    schemas: Schemas,
    strict: bool,
    /// Compiled schemas by `apiVersion`, then kind (built-in) or `~` + lowercase kind
    /// (custom), so a lookup allocates nothing.
    cache: std::sync::RwLock<HashMap<String, HashMap<String, Arc<jsonschema::Validator>>>>,
    /// Custom resources' schemas by (`apiVersion`, lowercase kind).
    custom: HashMap<(String, String), Arc<Json>>,
}

impl Validator {
    /// A validator for `version`; `strict` refuses fields the schema does not know.
    pub fn new(version: &KubeVersion, strict: bool) -> Result<Validator, SchemaError> {
        Ok(Validator {
            schemas: Schemas::for_version(version)?,
            strict,
            cache: Default::default(),
            custom: HashMap::new(),
        })
    }

    /// The Kubernetes release whose schemas apply (`1.35`).
    pub fn release(&self) -> &str {
        self.schemas.release()
    }

    /// Learns a CRD object's served versions; how many.
    pub fn add_crd(&mut self, crd: &Value) -> Result<usize, String> {
        let found = crds::from_crd(crd, self.strict)?;
        let n = found.len();
        self.add_schemas(found);
        Ok(n)
    }

    /// Learns custom resource schemas (a later one for the same kind replaces an earlier).
    pub fn add_schemas(&mut self, found: Vec<crds::CrdSchema>) {
        for c in found {
            let key = (c.api_version, c.kind.to_ascii_lowercase());
            if let Ok(mut cache) = self.cache.write()
                && let Some(kinds) = cache.get_mut(&key.0)
            {
                kinds.remove(&format!("~{}", key.1));
            }
            self.custom.insert(key, Arc::new(c.schema));
        }
    }

    /// Validates one object.
    pub fn validate(&self, obj: &Value) -> Verdict {
        let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        let mut problems = Vec::new();
        if api_version.is_empty() {
            problems.push(problem("apiVersion", "is required"));
        }
        if kind.is_empty() {
            problems.push(problem("kind", "is required"));
        }
        if !problems.is_empty() {
            return Verdict::Invalid(problems);
        }
        // Custom schemas are looked up only when some are known (the key allocates).
        let custom = (!self.custom.is_empty())
            .then(|| (api_version.to_owned(), kind.to_ascii_lowercase()))
            .and_then(|key| Some((self.custom.get(&key)?.clone(), key)));
        if custom.is_none() && !self.schemas.has_kind(api_version, kind) {
            return self.unknown_kind(api_version, kind);
        }
        let compiled = match &custom {
            Some((schema, key)) => self.compiled_custom(key, schema),
            None => self.compiled(api_version, kind),
        };
        let validator = match compiled {
            Ok(v) => v,
            Err(message) => return Verdict::Invalid(vec![problem("", &message)]),
        };
        let instance = obj.to_json_for_validation();
        // Most objects are valid: the quick yes/no first, the detailed walk only on a no.
        let errors = if validator.is_valid(&instance) {
            Vec::new()
        } else {
            validator.iter_errors(&instance).collect()
        };
        for error in errors {
            let pointer = error.instance_path().as_str().to_owned();
            let mut path = json_path(&pointer);
            // An unknown field is placed on itself when it is the only one.
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                error.kind()
                && let [one] = unexpected.as_slice()
            {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(one);
            }
            let message = match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected }
                    if custom.is_none() =>
                {
                    self.unknown_fields(api_version, kind, &pointer, unexpected)
                }
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    unexpected
                        .iter()
                        .map(|n| format!("unknown field {n:?}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                }
                other => describe(other, error.instance(), &error.to_string()),
            };
            problems.push(Problem { path, message });
        }
        problems.extend(self.name_problems(obj, api_version, kind));
        if problems.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid(problems)
        }
    }

    /// `metadata.name` as the API server checks it for this kind (a `generateName` stands
    /// in for a missing name).
    fn name_problems(&self, obj: &Value, api_version: &str, kind: &str) -> Vec<Problem> {
        let name = obj.get_path(["metadata", "name"]).and_then(Value::as_str);
        let generate = obj
            .get_path(["metadata", "generateName"])
            .and_then(Value::as_str)
            .is_some_and(|g| !g.is_empty());
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return if generate {
                Vec::new()
            } else {
                vec![problem(
                    "metadata.name",
                    "is required (or metadata.generateName)",
                )]
            };
        };
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let (rule, cap) = rules::name_rule(group, kind);
        rules::check_name(name, rule, cap)
            .map(|why| vec![problem("metadata.name", &format!("{name:?}: {why}"))])
            .unwrap_or_default()
    }

    fn compiled_custom(
        &self,
        key: &(String, String),
        schema: &Json,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        let kind = format!("~{}", key.1);
        if let Some(v) = self.cached(&key.0, &kind) {
            return Ok(v);
        }
        let v = Arc::new(compile(schema)?);
        self.remember(&key.0, &kind, v.clone());
        Ok(v)
    }

    fn cached(&self, api_version: &str, kind: &str) -> Option<Arc<jsonschema::Validator>> {
        self.cache.read().ok()?.get(api_version)?.get(kind).cloned()
    }

    fn remember(&self, api_version: &str, kind: &str, v: Arc<jsonschema::Validator>) {
        if let Ok(mut cache) = self.cache.write() {
            cache
                .entry(api_version.to_owned())
                .or_default()
                .insert(kind.to_owned(), v);
        }
    }

    fn unknown_kind(&self, api_version: &str, kind: &str) -> Verdict {
        if let Some(successor) = removed::successor(api_version, kind) {
            return Verdict::Invalid(vec![problem(
                "apiVersion",
                &format!(
                    "{kind} is no longer served as {api_version} (removed in Kubernetes {}); use {successor}",
                    successor_release(api_version, kind)
                ),
            )]);
        }
        // A group Kubernetes serves (in any version) is built in; any other group belongs to
        // a custom resource.
        let group_of = |av: &str| av.rsplit_once('/').map_or("", |(g, _)| g).to_owned();
        let group = group_of(api_version);
        let built_in = group.is_empty()
            || self
                .schemas
                .api_versions()
                .iter()
                .any(|a| group_of(a) == group);
        if built_in {
            let kinds = self.schemas.kinds(api_version);
            let hint = if kinds.is_empty() {
                format!(
                    "{api_version} is not served by Kubernetes {}",
                    self.schemas.release()
                )
            } else {
                match closest(kind, &kinds) {
                    Some(k) => format!("did you mean {k}?"),
                    None => format!("{api_version} has {}", kinds.join(", ")),
                }
            };
            return Verdict::Invalid(vec![problem(
                "kind",
                &format!("no kind {kind} in {api_version}: {hint}"),
            )]);
        }
        Verdict::Skipped(format!(
            "{api_version}/{kind} is a custom resource; pass its CRD to check it"
        ))
    }

    fn compiled(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.cached(api_version, kind) {
            return Ok(v);
        }
        let mut schema = self
            .schemas
            .schema(api_version, kind)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no schema for {api_version}/{kind}"))?;
        if self.strict {
            forbid_unknown_fields(&mut schema);
        }
        rules::patch(&mut schema);
        let v = Arc::new(compile(&schema)?);
        self.remember(api_version, kind, v.clone());
        Ok(v)
    }

    /// "unknown field X" with the closest known field when one is near.
    fn unknown_fields(
        &self,
        api_version: &str,
        kind: &str,
        pointer: &str,
        names: &[String],
    ) -> String {
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .filter(|s| s.parse::<usize>().is_err())
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let known: Vec<String> = self
            .schemas
            .field_schema(api_version, kind, &refs)
            .ok()
            .flatten()
            .and_then(|s| resolve_properties(&self.schemas, &s))
            .unwrap_or_default();
        let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
        names
            .iter()
            .map(|n| match closest(n, &known_refs) {
                Some(k) => format!("unknown field {n:?}: did you mean {k:?}?"),
                None => format!("unknown field {n:?}"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Compiles a schema with the formats the API server checks (quantities, base64 bytes,
/// date-times); other formats (`int32`, `int64`…) are left to the types and ranges.
fn compile(schema: &Json) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .with_format(rules::QUANTITY_FORMAT, rules::is_quantity)
        .with_format(rules::BYTE_FORMAT, rules::is_base64)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// A validation error in pack's words: what was expected and what was given.
fn describe(
    kind: &jsonschema::error::ValidationErrorKind,
    instance: &Json,
    fallback: &str,
) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    let got = || {
        let text = instance.to_string();
        let shown = if text.len() > 60 {
            let cut = (0..=57)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            format!("{}…", &text[..cut])
        } else {
            text
        };
        format!("{} {shown}", json_type(instance))
    };
    match kind {
        K::Type { kind } => {
            use jsonschema::error::TypeKind;
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let expected: Vec<String> = names.into_iter().filter(|t| t != "null").collect();
            format!("expected {}, got {}", expected.join(" or "), got())
        }
        K::Required { property } => {
            format!("{} is required", property.as_str().unwrap_or_default())
        }
        K::Enum { options } => {
            let list: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            format!("expected one of {}, got {}", list.join(", "), got())
        }
        K::AnyOf { context } if instance.is_string() => {
            let quantity = context.iter().flatten().any(
                |e| matches!(e.kind(), K::Format { format } if format == rules::QUANTITY_FORMAT),
            );
            if quantity {
                format!(
                    "expected a quantity (such as 500m, 1.5, 2Gi), got {}",
                    got()
                )
            } else {
                fallback.to_owned()
            }
        }
        K::AnyOf { .. } if instance.is_object() || instance.is_array() || instance.is_boolean() => {
            format!("expected a string or a number, got {}", got())
        }
        K::Format { format } if format == rules::BYTE_FORMAT => {
            format!("expected base64 data, got {}", got())
        }
        K::Format { format } => format!("expected a {format}, got {}", got()),
        K::Minimum { limit } => format!("expected at least {limit}, got {instance}"),
        K::Maximum { limit } => format!("expected at most {limit}, got {instance}"),
        _ => fallback.to_owned(),
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_f64() => "number",
        Json::Number(_) => "integer",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn successor_release(api_version: &str, kind: &str) -> &'static str {
    removed::removed_in(api_version, kind).unwrap_or("an earlier release")
}

/// The property names of a (possibly `$ref`ed) object schema, or of a list's items.
fn resolve_properties(schemas: &Schemas, schema: &Json) -> Option<Vec<String>> {
    let mut current = schema.clone();
    for _ in 0..4 {
        if let Some(r) = current.get("$ref").and_then(Json::as_str) {
            let name = r.strip_prefix("#/$defs/")?;
            current = schemas.definition(name).ok().flatten()?.as_ref().clone();
        } else if let Some(items) = current.get("items") {
            current = items.clone();
        } else {
            break;
        }
    }
    Some(
        current
            .get("properties")?
            .as_object()?
            .keys()
            .cloned()
            .collect(),
    )
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// `/spec/containers/0/image` → `spec.containers[0].image`.
fn json_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Adds `additionalProperties: false` to every object schema that lists its properties
/// and neither allows extra ones nor preserves unknown fields.
pub(crate) fn forbid_unknown_fields(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            let preserves = map
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserves
            {
                map.insert("additionalProperties".into(), Json::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                if key != "enum" && key != "default" {
                    forbid_unknown_fields(value);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(forbid_unknown_fields),
        _ => {}
    }
}

/// The candidate closest to `word` by edit distance, when close enough to be a typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
