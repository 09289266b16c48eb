//! `Chart.yaml`: the chart's metadata and dependency list, read and validated like Helm's,
//! with errors that name the field.

use crate::value::{Map, Value};
use std::fmt;

/// The `apiVersion` that marks a native chart (Jinja templates, YAML 1.2). Helm refuses
/// such a chart ("unsupported chart version") instead of mis-rendering it.
pub const NATIVE_API_VERSION: &str = "pack/v1";

/// Which template engine renders a chart, decided by its `apiVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `apiVersion: pack/v1`: minijinja templates, values read as YAML 1.2.
    Native,
    /// `apiVersion: v1|v2` (or none): Go templates, values read as YAML 1.1, like Helm.
    Helm,
}

/// A problem with `Chart.yaml`, naming the field.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("Chart.yaml: {field}: {message}")]
pub struct MetadataError {
    /// The field, as a path (`dependencies[1].alias`).
    pub field: String,
    /// What is wrong and, where useful, what to write instead.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> MetadataError {
    MetadataError {
        field: field.into(),
        message: message.into(),
    }
}

/// A maintainer entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maintainer {
    /// Name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Web address.
    pub url: String,
}

/// One `import-values` entry of a dependency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportValue {
    /// `- name`: the child's `exports.name` table is copied into the parent's root.
    Exports(String),
    /// `- {child: a.b, parent: c.d}`: the child's `a.b` table is copied to the parent's `c.d`.
    Map {
        /// Path in the child's values.
        child: String,
        /// Path in the parent's values (`.` for the root).
        parent: String,
    },
}

/// One entry of `dependencies:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependency {
    /// The subchart's name.
    pub name: String,
    /// A version constraint (Helm's syntax) the subchart's version must satisfy.
    pub version: String,
    /// Where to fetch it (`https://…`, `oci://…`, `file://…`, `@repo`), empty when vendored.
    pub repository: String,
    /// Comma-separated value paths; the first that holds a boolean enables or disables it.
    pub condition: String,
    /// Tags that enable (any true) or disable (none true, one false) it.
    pub tags: Vec<String>,
    /// Values to copy from the subchart up into the parent.
    pub import_values: Vec<ImportValue>,
    /// Another name for the subchart; one subchart may appear under several aliases.
    pub alias: String,
}

impl Dependency {
    /// The entry as Helm serialises it (empty fields left out).
    pub fn to_value(&self) -> Value {
        let mut m = Map::default();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.to_owned(), Value::from(v));
            }
        };
        put("name", &self.name);
        put("version", &self.version);
        put("repository", &self.repository);
        put("condition", &self.condition);
        if !self.tags.is_empty() {
            m.insert("tags".into(), strings(&self.tags));
        }
        if !self.import_values.is_empty() {
            let list = self
                .import_values
                .iter()
                .map(|iv| match iv {
                    ImportValue::Exports(e) => Value::from(e.as_str()),
                    ImportValue::Map { child, parent } => {
                        let mut e = Map::default();
                        e.insert("child".into(), Value::from(child.as_str()));
                        e.insert("parent".into(), Value::from(parent.as_str()));
                        Value::Map(e)
                    }
                })
                .collect();
            m.insert("import-values".into(), Value::List(list));
        }
        if !self.alias.is_empty() {
            m.insert("alias".into(), Value::from(self.alias.as_str()));
        }
        Value::Map(m)
    }

    /// The name the subchart is known by in the parent: its alias, else its name.
    pub fn effective_name(&self) -> &str {
        if self.alias.is_empty() {
            &self.name
        } else {
            &self.alias
        }
    }
}

/// The contents of `Chart.yaml`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    /// `v1`, `v2` or `pack/v1` (`v1` when absent, as Helm sets it).
    pub api_version: String,
    /// The chart's name.
    pub name: String,
    /// The chart's version (SemVer).
    pub version: String,
    /// A version constraint on the target Kubernetes.
    pub kube_version: String,
    /// One-line description.
    pub description: String,
    /// `application` (default) or `library`.
    pub chart_type: String,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// Project home page.
    pub home: String,
    /// Source code addresses.
    pub sources: Vec<String>,
    /// Subcharts.
    pub dependencies: Vec<Dependency>,
    /// Maintainers.
    pub maintainers: Vec<Maintainer>,
    /// Icon address.
    pub icon: String,
    /// Version of the packaged application.
    pub app_version: String,
    /// Whether the chart is deprecated.
    pub deprecated: bool,
    /// Free-form string annotations.
    pub annotations: Map,
    /// Chart.yaml as read, for what templates see as `.Chart`.
    pub raw: Value,
}

impl Metadata {
    /// The engine `apiVersion` selects.
    pub fn engine(&self) -> Engine {
        if self.api_version == NATIVE_API_VERSION {
            Engine::Native
        } else {
            Engine::Helm
        }
    }

    /// True for `type: library` (templates only, no manifests).
    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }

    /// Reads Chart.yaml from an already parsed document (see `chart::load`), checks it like
    /// Helm's `chart.Validate()`, and refuses API versions pack does not know.
    pub fn from_value(raw: Value) -> Result<Metadata, MetadataError> {
        let root = match &raw {
            Value::Map(m) => m,
            Value::Null => return Err(err("(document)", "Chart.yaml is empty")),
            other => {
                return Err(err(
                    "(document)",
                    format!("expected a mapping, got a {}", other.type_name()),
                ));
            }
        };
        let native = root.get("apiVersion").and_then(Value::as_str) == Some(NATIVE_API_VERSION);
        let reader = Reader { map: root, native };
        let mut md = Metadata {
            api_version: reader.string("apiVersion")?,
            name: reader.string("name")?,
            version: reader.string("version")?,
            kube_version: reader.string("kubeVersion")?,
            description: reader.string("description")?,
            chart_type: reader.string("type")?,
            keywords: reader.strings("keywords")?,
            home: reader.string("home")?,
            sources: reader.strings("sources")?,
            dependencies: Vec::new(),
            maintainers: Vec::new(),
            icon: reader.string("icon")?,
            app_version: reader.string("appVersion")?,
            deprecated: reader.boolean("deprecated")?,
            annotations: reader.string_map("annotations")?,
            raw: Value::Null,
        };
        md.maintainers = reader.maintainers()?;
        md.dependencies = reader.dependencies()?;
        if md.api_version.is_empty() {
            md.api_version = "v1".into();
        }
        md.sanitize();
        md.raw = raw;
        md.validate()?;
        Ok(md)
    }

    /// Helm's clean-up of free-text fields: whitespace (newlines included) becomes a space
    /// and unprintable characters are dropped, so a folded `description: >` loses its
    /// line breaks exactly as in Helm.
    fn sanitize(&mut self) {
        let clean = |s: &mut String| {
            *s = s
                .chars()
                .filter_map(|c| {
                    if c.is_whitespace() {
                        Some(' ')
                    } else if c.is_control() {
                        None
                    } else {
                        Some(c)
                    }
                })
                .collect();
        };
        for field in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            clean(field);
        }
        self.sources.iter_mut().for_each(clean);
        self.keywords.iter_mut().for_each(clean);
        for m in &mut self.maintainers {
            clean(&mut m.name);
            clean(&mut m.email);
            clean(&mut m.url);
        }
        for d in &mut self.dependencies {
            clean(&mut d.name);
            clean(&mut d.version);
            clean(&mut d.repository);
            clean(&mut d.condition);
            clean(&mut d.alias);
            d.tags.iter_mut().for_each(clean);
        }
    }

    /// The metadata as Helm serialises it (JSON field names, empty fields left out): what
    /// `show chart` prints and a release record stores.
    pub fn to_value(&self) -> Value {
        let mut m = Map::default();
        let put_str = |m: &mut Map, k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.to_owned(), Value::from(v));
            }
        };
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "home", &self.home);
        if !self.sources.is_empty() {
            m.insert("sources".into(), strings(&self.sources));
        }
        put_str(&mut m, "version", &self.version);
        put_str(&mut m, "description", &self.description);
        if !self.keywords.is_empty() {
            m.insert("keywords".into(), strings(&self.keywords));
        }
        if !self.maintainers.is_empty() {
            let list = self
                .maintainers
                .iter()
                .map(|mt| {
                    let mut e = Map::default();
                    put_str(&mut e, "name", &mt.name);
                    put_str(&mut e, "email", &mt.email);
                    put_str(&mut e, "url", &mt.url);
                    Value::Map(e)
                })
                .collect();
            m.insert("maintainers".into(), Value::List(list));
        }
        put_str(&mut m, "icon", &self.icon);
        put_str(&mut m, "apiVersion", &self.api_version);
        put_str(&mut m, "appVersion", &self.app_version);
        if self.deprecated {
            m.insert("deprecated".into(), Value::Bool(true));
        }
        if !self.annotations.is_empty() {
            m.insert("annotations".into(), Value::Map(self.annotations.clone()));
        }
        put_str(&mut m, "kubeVersion", &self.kube_version);
        if !self.dependencies.is_empty() {
            let list = self.dependencies.iter().map(Dependency::to_value).collect();
            m.insert("dependencies".into(), Value::List(list));
        }
        put_str(&mut m, "type", &self.chart_type);
        Value::Map(m)
    }

    fn validate(&self) -> Result<(), MetadataError> {
        match self.api_version.as_str() {
            "v1" | "v2" | NATIVE_API_VERSION => {}
            other => {
                return Err(err(
                    "apiVersion",
                    format!(
                        "{other:?} is not supported: use v2 for a Helm chart or {NATIVE_API_VERSION} for a native pack chart"
                    ),
                ));
            }
        }
        if self.name.is_empty() {
            return Err(err("name", "is required"));
        }
        if self.name == "." || self.name == ".." || self.name.contains(['/', '\\']) {
            return Err(err(
                "name",
                format!(
                    "{:?} is not a valid chart name (no path separators, not . or ..)",
                    self.name
                ),
            ));
        }
        if self.version.is_empty() {
            return Err(err("version", "is required"));
        }
        if let Err(e) = crate::versions::parse_version(&self.version) {
            return Err(err("version", format!("{e}; use SemVer 2, e.g. 1.2.3")));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err(err(
                "type",
                format!("{:?} must be application or library", self.chart_type),
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, dep) in self.dependencies.iter().enumerate() {
            if dep.name.is_empty() {
                return Err(err(format!("dependencies[{i}].name"), "is required"));
            }
            if !dep.alias.is_empty()
                && !dep
                    .alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(err(
                    format!("dependencies[{i}].alias"),
                    format!(
                        "{:?} may contain only letters, digits, '_' and '-'",
                        dep.alias
                    ),
                ));
            }
            let name = dep.effective_name();
            if seen.contains(&name) {
                return Err(err(
                    format!("dependencies[{i}]"),
                    format!("more than one dependency is named {name:?}; give each an alias"),
                ));
            }
            seen.push(name);
        }
        Ok(())
    }
}

/// Reads typed fields out of the Chart.yaml map, naming the field on a type mismatch.
struct Reader<'a> {
    map: &'a Map,
    native: bool,
}

impl Reader<'_> {
    fn string(&self, key: &str) -> Result<String, MetadataError> {
        scalar_string(self.map.get(key), key, self.native)
    }

    fn boolean(&self, key: &str) -> Result<bool, MetadataError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(err(
                key,
                format!("expected true or false, got a {}", other.type_name()),
            )),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, MetadataError> {
        string_list(self.map.get(key), key, self.native)
    }

    fn string_map(&self, key: &str) -> Result<Map, MetadataError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Map::default()),
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| {
                    let s = scalar_string(Some(v), &format!("{key}.{k}"), self.native)?;
                    Ok((k.clone(), Value::String(s)))
                })
                .collect(),
            Some(other) => Err(err(
                key,
                format!("expected a mapping of strings, got a {}", other.type_name()),
            )),
        }
    }

    fn list(&self, key: &str) -> Result<&[Value], MetadataError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::List(l)) => Ok(l),
            Some(other) => Err(err(
                key,
                format!("expected a list, got a {}", other.type_name()),
            )),
        }
    }

    fn maintainers(&self) -> Result<Vec<Maintainer>, MetadataError> {
        self.list("maintainers")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let field = format!("maintainers[{i}]");
                let Value::Map(m) = item else {
                    return Err(err(field, "must be a mapping with name, email, url"));
                };
                let sub = Reader {
                    map: m,
                    native: self.native,
                };
                let at = |e: MetadataError| err(format!("{field}.{}", e.field), e.message);
                Ok(Maintainer {
                    name: sub.string("name").map_err(at)?,
                    email: sub.string("email").map_err(at)?,
                    url: sub.string("url").map_err(at)?,
                })
            })
            .collect()
    }

    fn dependencies(&self) -> Result<Vec<Dependency>, MetadataError> {
        self.list("dependencies")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let field = format!("dependencies[{i}]");
                let Value::Map(m) = item else {
                    return Err(err(field, "must be a mapping (name, version, repository…)"));
                };
                let sub = Reader {
                    map: m,
                    native: self.native,
                };
                let at = |e: MetadataError| err(format!("{field}.{}", e.field), e.message);
                Ok(Dependency {
                    name: sub.string("name").map_err(at)?,
                    version: sub.string("version").map_err(at)?,
                    repository: sub.string("repository").map_err(at)?,
                    condition: sub.string("condition").map_err(at)?,
                    tags: sub.strings("tags").map_err(at)?,
                    import_values: import_values(m.get("import-values"), &field)?,
                    alias: sub.string("alias").map_err(at)?,
                })
            })
            .collect()
    }
}

/// A string field. Helm turns YAML scalars into text (`appVersion: 1.10` becomes "1.1");
/// a native chart must quote numbers so that they keep the text the author wrote.
fn scalar_string(v: Option<&Value>, field: &str, native: bool) -> Result<String, MetadataError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(n @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
            if native {
                Err(err(
                    field,
                    format!(
                        "{n} is not a string: quote it (\"{n}\") so it keeps the text you wrote"
                    ),
                ))
            } else {
                Ok(n.to_string())
            }
        }
        Some(other) => Err(err(
            field,
            format!("expected a string, got a {}", other.type_name()),
        )),
    }
}

fn string_list(v: Option<&Value>, field: &str, native: bool) -> Result<Vec<String>, MetadataError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar_string(Some(item), &format!("{field}[{i}]"), native))
            .collect(),
        Some(other) => Err(err(
            field,
            format!("expected a list of strings, got a {}", other.type_name()),
        )),
    }
}

fn import_values(v: Option<&Value>, dep_field: &str) -> Result<Vec<ImportValue>, MetadataError> {
    let field = format!("{dep_field}.import-values");
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::List(items)) => items,
        Some(other) => {
            return Err(err(
                field,
                format!("expected a list, got a {}", other.type_name()),
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(ImportValue::Exports(s.clone())),
            Value::Map(m) => {
                let get = |k: &str| match m.get(k) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    _ => Err(err(
                        format!("{field}[{i}].{k}"),
                        "is required and must be a string",
                    )),
                };
                Ok(ImportValue::Map {
                    child: get("child")?,
                    parent: get("parent")?,
                })
            }
            other => Err(err(
                format!("{field}[{i}]"),
                format!(
                    "expected a name or {{child, parent}}, got a {}",
                    other.type_name()
                ),
            )),
        })
        .collect()
}

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Native => "native",
            Engine::Helm => "helm",
        })
    }
}
