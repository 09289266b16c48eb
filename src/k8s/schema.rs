//! The bundled Kubernetes OpenAPI schemas (1.31–1.37, from `kubernetes-validate`), loaded
//! lazily: the index on first use, each definition when first asked for.
//!
//! The bundle (`schemas.bin`, made by `scripts/gen-schema-bundle`) keeps the facts code
//! needs — types, required fields, enums, formats, int-or-string, preserve-unknown-fields,
//! group/version/kind and the `x-kubernetes-*` merge metadata — without prose. Layout: the
//! magic `PACKSCH1`, a little-endian u32 length and a zlib-compressed JSON index, then the
//! definitions, each raw-deflate-compressed JSON, shared between versions when identical.

use super::KubeVersion;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

static BUNDLE: &[u8] = include_bytes!("schemas.bin");
const MAGIC: &[u8] = b"PACKSCH1";

/// Why a schema could not be given.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// The version has no schema set in the bundle.
    #[error(
        "no Kubernetes schemas for {version}: pack bundles {first}–{last}; pass --kube-version with one of those"
    )]
    UnsupportedVersion {
        /// The requested minor release.
        version: String,
        /// The oldest bundled minor release.
        first: String,
        /// The newest bundled minor release.
        last: String,
    },
    /// The bundle is damaged (a build problem, not a user one).
    #[error("the bundled Kubernetes schemas are damaged: {0}")]
    Corrupt(String),
}

#[derive(Deserialize)]
struct Index {
    source: String,
    versions: BTreeMap<String, VersionIndex>,
    blobs: Vec<(usize, usize)>,
}

#[derive(Deserialize)]
struct VersionIndex {
    definitions: HashMap<String, usize>,
    kinds: HashMap<String, HashMap<String, String>>,
}

struct Bundle {
    index: Index,
    blob_area: &'static [u8],
    cache: Mutex<HashMap<usize, Arc<Json>>>,
}

fn bundle() -> Result<&'static Bundle, SchemaError> {
    static CELL: OnceLock<Result<Bundle, SchemaError>> = OnceLock::new();
    CELL.get_or_init(|| load(BUNDLE))
        .as_ref()
        .map_err(Clone::clone)
}

fn load(bytes: &'static [u8]) -> Result<Bundle, SchemaError> {
    let corrupt = |what: &str| SchemaError::Corrupt(what.to_owned());
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| corrupt("bad magic"))?;
    let len_bytes: [u8; 4] = rest
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("truncated header"))?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    let compressed = rest
        .get(4..4 + len)
        .ok_or_else(|| corrupt("truncated index"))?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .read_to_end(&mut json)
        .map_err(|e| SchemaError::Corrupt(format!("index: {e}")))?;
    let index: Index =
        serde_json::from_slice(&json).map_err(|e| SchemaError::Corrupt(format!("index: {e}")))?;
    Ok(Bundle {
        index,
        blob_area: &rest[4 + len..],
        cache: Mutex::new(HashMap::new()),
    })
}

impl Bundle {
    fn blob(&self, id: usize) -> Result<Arc<Json>, SchemaError> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(hit);
        }
        let &(offset, len) = self
            .index
            .blobs
            .get(id)
            .ok_or_else(|| SchemaError::Corrupt(format!("no blob {id}")))?;
        let raw = self
            .blob_area
            .get(offset..offset + len)
            .ok_or_else(|| SchemaError::Corrupt(format!("blob {id} out of range")))?;
        let mut json = Vec::new();
        flate2::read::DeflateDecoder::new(raw)
            .read_to_end(&mut json)
            .map_err(|e| SchemaError::Corrupt(format!("blob {id}: {e}")))?;
        let value: Arc<Json> = Arc::new(
            serde_json::from_slice(&json)
                .map_err(|e| SchemaError::Corrupt(format!("blob {id}: {e}")))?,
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id, value.clone());
        }
        Ok(value)
    }
}

/// The minor releases the bundle covers, oldest first (`["1.31", …, "1.37"]`).
pub fn bundled_versions() -> Result<Vec<String>, SchemaError> {
    let mut v: Vec<String> = bundle()?.index.versions.keys().cloned().collect();
    v.sort_by_key(|s| minor_number(s));
    Ok(v)
}

/// Where the bundled schemas come from (package and version), for `pack version -o json`.
pub fn bundle_source() -> Result<&'static str, SchemaError> {
    Ok(bundle()?.index.source.as_str())
}

fn minor_number(release: &str) -> u64 {
    release
        .split_once('.')
        .and_then(|(_, m)| m.parse().ok())
        .unwrap_or(0)
}

/// The schemas of one Kubernetes minor release.
#[derive(Clone, Copy)]
pub struct Schemas {
    bundle: &'static Bundle,
    version: &'static VersionIndex,
    release: &'static str,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schemas({})", self.release)
    }
}

/// How a field merges in strategic merge patch and server-side apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeInfo {
    /// `x-kubernetes-patch-strategy`, split on commas (`merge`, `retainKeys`, `replace`).
    pub patch_strategies: Vec<String>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<String>,
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type`: `atomic` or `granular`.
    pub map_type: Option<String>,
}

impl Schemas {
    /// The schemas for the minor release of `version` (a patch level does not matter).
    pub fn for_version(version: &KubeVersion) -> Result<Schemas, SchemaError> {
        let bundle = bundle()?;
        let release = version.minor_release();
        match bundle.index.versions.get_key_value(&release) {
            Some((name, index)) => Ok(Schemas {
                bundle,
                version: index,
                release: name.as_str(),
            }),
            None => {
                let all = bundled_versions()?;
                Err(SchemaError::UnsupportedVersion {
                    version: release,
                    first: all.first().cloned().unwrap_or_default(),
                    last: all.last().cloned().unwrap_or_default(),
                })
            }
        }
    }

    /// The minor release these schemas describe (`1.35`).
    pub fn release(&self) -> &str {
        self.release
    }

    /// Does `apiVersion`/`kind` exist in this release?
    pub fn has_kind(&self, api_version: &str, kind: &str) -> bool {
        self.definition_name(api_version, kind).is_some()
    }

    /// The kinds served under `apiVersion`, sorted; empty when the group-version does not
    /// exist in this release.
    pub fn kinds(&self, api_version: &str) -> Vec<&str> {
        let mut kinds: Vec<&str> = self
            .version
            .kinds
            .get(api_version)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        kinds.sort_unstable();
        kinds
    }

    /// Every group-version with at least one kind in this release, sorted.
    pub fn api_versions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.version.kinds.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The OpenAPI definition name of a kind (`io.k8s.api.apps.v1.Deployment`).
    pub fn definition_name(&self, api_version: &str, kind: &str) -> Option<&'static str> {
        self.version
            .kinds
            .get(api_version)?
            .get(kind)
            .map(String::as_str)
    }

    /// One definition by name, as stored (its `$ref`s point at `#/$defs/<name>`).
    pub fn definition(&self, name: &str) -> Result<Option<Arc<Json>>, SchemaError> {
        match self.version.definitions.get(name) {
            Some(&id) => self.bundle.blob(id).map(Some),
            None => Ok(None),
        }
    }

    /// A self-contained JSON Schema (draft 2020-12) for a kind: its definition plus every
    /// definition it references under `$defs`. `None` when the kind does not exist here.
    pub fn schema(&self, api_version: &str, kind: &str) -> Result<Option<Json>, SchemaError> {
        let Some(root) = self.definition_name(api_version, kind) else {
            return Ok(None);
        };
        let mut defs = serde_json::Map::default();
        let mut todo = vec![root.to_owned()];
        while let Some(name) = todo.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let def = self
                .definition(&name)?
                .ok_or_else(|| SchemaError::Corrupt(format!("missing definition {name}")))?;
            collect_refs(&def, &mut todo);
            defs.insert(name, (*def).clone());
        }
        Ok(Some(serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/$defs/{root}"),
            "$defs": defs,
        })))
    }

    /// The schema of the field at `path` inside a kind (`["spec", "template", "spec",
    /// "containers"]`); list items are stepped into implicitly, so `["spec", "containers",
    /// "env"]` is the `env` of a container. `None` when the path leaves the schema.
    pub fn field_schema(
        &self,
        api_version: &str,
        kind: &str,
        path: &[&str],
    ) -> Result<Option<Arc<Json>>, SchemaError> {
        let Some(root) = self.definition_name(api_version, kind) else {
            return Ok(None);
        };
        let Some(mut current) = self.definition(root)? else {
            return Ok(None);
        };
        for field in path {
            current = self.resolve(current)?;
            if has_type(&current, "array") {
                let Some(items) = current.get("items").cloned() else {
                    return Ok(None);
                };
                current = self.resolve(Arc::new(items))?;
            }
            let next = current
                .get("properties")
                .and_then(|p| p.get(*field))
                .or_else(|| {
                    current
                        .get("additionalProperties")
                        .filter(|a| a.is_object())
                });
            match next {
                Some(n) => current = Arc::new(n.clone()),
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// How the field at `path` merges (see [`Schemas::field_schema`] for paths). A `$ref`ed
    /// field combines the metadata on the reference with that of its target.
    pub fn merge_info(
        &self,
        api_version: &str,
        kind: &str,
        path: &[&str],
    ) -> Result<Option<MergeInfo>, SchemaError> {
        let Some(field) = self.field_schema(api_version, kind, path)? else {
            return Ok(None);
        };
        let mut info = merge_info_of(&field);
        if field.get("$ref").is_some() {
            let target = self.resolve(field)?;
            let more = merge_info_of(&target);
            info.list_type = info.list_type.or(more.list_type);
            info.map_type = info.map_type.or(more.map_type);
        }
        Ok(Some(info))
    }

    /// Follows `$ref` chains to the schema they name.
    fn resolve(&self, mut schema: Arc<Json>) -> Result<Arc<Json>, SchemaError> {
        for _ in 0..16 {
            let Some(target) = schema
                .get("$ref")
                .and_then(Json::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                return Ok(schema);
            };
            schema = self
                .definition(target)?
                .ok_or_else(|| SchemaError::Corrupt(format!("dangling $ref {target}")))?;
        }
        Err(SchemaError::Corrupt("$ref chain too long".into()))
    }
}

/// A position in a kind's schema, for walking an object alongside it (patches, field
/// ownership): the resolved schema of a field plus how that field merges.
#[derive(Clone, Debug)]
pub struct SchemaNode {
    schemas: Option<Schemas>,
    node: Arc<Json>,
    info: MergeInfo,
}

impl SchemaNode {
    /// The root of a built-in kind's schema.
    pub fn root(schemas: Schemas, api_version: &str, kind: &str) -> Option<SchemaNode> {
        let name = schemas.definition_name(api_version, kind)?;
        let node = schemas.definition(name).ok()??;
        let node = schemas.resolve(node).ok()?;
        let info = merge_info_of(&node);
        Some(SchemaNode {
            schemas: Some(schemas),
            node,
            info,
        })
    }

    /// The root of a self-contained schema (a CRD's `openAPIV3Schema`).
    pub fn standalone(schema: Json) -> SchemaNode {
        let info = merge_info_of(&schema);
        SchemaNode {
            schemas: None,
            node: Arc::new(schema),
            info,
        }
    }

    fn step(&self, raw: &Json) -> Option<SchemaNode> {
        let mut info = merge_info_of(raw);
        let node = match &self.schemas {
            Some(schemas) if raw.get("$ref").is_some() => {
                let target = schemas.resolve(Arc::new(raw.clone())).ok()?;
                let more = merge_info_of(&target);
                info.list_type = info.list_type.or(more.list_type);
                info.map_type = info.map_type.or(more.map_type);
                if info.list_map_keys.is_empty() {
                    info.list_map_keys = more.list_map_keys;
                }
                target
            }
            _ => Arc::new(raw.clone()),
        };
        Some(SchemaNode {
            schemas: self.schemas,
            node,
            info,
        })
    }

    /// The schema of a map field (a property, or the map's value schema).
    pub fn field(&self, name: &str) -> Option<SchemaNode> {
        let raw = self
            .node
            .get("properties")
            .and_then(|p| p.get(name))
            .or_else(|| {
                self.node
                    .get("additionalProperties")
                    .filter(|a| a.is_object())
            })?;
        self.step(raw)
    }

    /// The schema of a list's items.
    pub fn items(&self) -> Option<SchemaNode> {
        let raw = self.node.get("items")?;
        let mut item = self.step(raw)?;
        // Patch metadata belongs to the list, not its items.
        item.info.patch_strategies.clear();
        item.info.patch_merge_key = None;
        Some(item)
    }

    /// How this field merges.
    pub fn merge(&self) -> &MergeInfo {
        &self.info
    }

    /// Whether a map field of this name is declared (or any name is allowed here).
    pub fn allows_field(&self, name: &str) -> bool {
        if self.preserves_unknown() {
            return true;
        }
        match self.node.get("properties").and_then(Json::as_object) {
            Some(props) => {
                props.contains_key(name)
                    || self
                        .node
                        .get("additionalProperties")
                        .is_some_and(|a| a.is_object() || a == true)
            }
            // No declared properties: a free-form object.
            None => true,
        }
    }

    /// Whether unknown fields are kept here (`x-kubernetes-preserve-unknown-fields`).
    pub fn preserves_unknown(&self) -> bool {
        self.node
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Json::as_bool)
            .unwrap_or(false)
    }
}

fn has_type(schema: &Json, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Json::String(t)) => t == wanted,
        Some(Json::Array(ts)) => ts.iter().any(|t| t == wanted),
        _ => false,
    }
}

fn merge_info_of(schema: &Json) -> MergeInfo {
    let text = |key: &str| schema.get(key).and_then(Json::as_str).map(str::to_owned);
    MergeInfo {
        patch_strategies: text("x-kubernetes-patch-strategy")
            .map(|s| s.split(',').map(|p| p.trim().to_owned()).collect())
            .unwrap_or_default(),
        patch_merge_key: text("x-kubernetes-patch-merge-key"),
        list_type: text("x-kubernetes-list-type"),
        list_map_keys: schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Json::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        map_type: text("x-kubernetes-map-type"),
    }
}

fn collect_refs(schema: &Json, out: &mut Vec<String>) {
    match schema {
        Json::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Json::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            out.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
