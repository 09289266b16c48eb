//! Schemas for custom resources: from CustomResourceDefinition objects (a chart's `crds/`,
//! rendered CRDs, a cluster's CRDs) and from `--schema-location` files — CRD YAML/JSON, or
//! JSON Schema files laid out as the common CRD catalogs lay them out
//! (`<group>/<kind>_<version>.json`) or carrying `x-kubernetes-group-version-kind`.

use crate::value::Value;
use crate::value::yaml::{self, Flavor};
use serde_json::{Value as Json, json};
use std::path::Path;

/// A custom resource's schema: its `apiVersion`, `kind` and JSON Schema.
#[derive(Clone, Debug)]
pub struct CrdSchema {
    /// `group/version`.
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// The JSON Schema objects of that kind must match.
    pub schema: Json,
}

/// The served versions of a CRD object, each with its schema (converted for JSON Schema
/// validators; with `strict`, unknown fields refused where the CRD does not preserve them).
/// A CRD without a schema for a version accepts anything in it.
pub fn from_crd(crd: &Value, strict: bool) -> Result<Vec<CrdSchema>, String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let (group, kind) = check(crd)?;
    let versions = crd
        .get_path(["spec", "versions"])
        .and_then(Value::as_list)
        .unwrap_or_default();
    let mut out = Vec::new();
    for v in versions {
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let version = s(v.get("name"));
        let raw = v
            .get_path(["schema", "openAPIV3Schema"])
            .map(Value::to_json_for_validation)
            .unwrap_or_else(
                || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            );
        out.push(CrdSchema {
            api_version: format!("{group}/{version}"),
            kind: kind.clone(),
            schema: convert(raw, strict),
        });
    }
    Ok(out)
}

/// What makes a CRD object usable (its group and kind), without converting its schemas;
/// the reason when they are missing.
pub fn check(crd: &Value) -> Result<(String, String), String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let group = s(crd.get_path(["spec", "group"]));
    let kind = s(crd.get_path(["spec", "names", "kind"]));
    if group.is_empty() || kind.is_empty() {
        let name = s(crd.get_path(["metadata", "name"]));
        return Err(format!(
            "CustomResourceDefinition {name:?} has no spec.group or spec.names.kind"
        ));
    }
    Ok((group, kind))
}

/// A CRD version's `openAPIV3Schema` as a JSON Schema; with `strict`, objects that list
/// their properties refuse others (unless they preserve unknown fields), and the fields
/// every object has are allowed at the top.
fn convert(mut raw: Json, strict: bool) -> Json {
    if strict {
        super::forbid_unknown_fields(&mut raw);
    }
    let mut schema = crate::k8s::crd::json_schema(&raw);
    if strict
        && schema.get("additionalProperties") == Some(&Json::Bool(false))
        && let Some(props) = schema.get_mut("properties").and_then(Json::as_object_mut)
    {
        for k in ["apiVersion", "kind", "metadata"] {
            props.insert(k.into(), json!({}));
        }
    }
    schema
}

/// Why a schema location could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LocationError {
    /// The file or directory.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Every schema under a `--schema-location` (a file, or a directory searched recursively).
pub fn from_location(path: &Path, strict: bool) -> Result<Vec<CrdSchema>, LocationError> {
    let err = |message: String| LocationError {
        path: path.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| err(e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            let wanted = e.is_dir()
                || e.extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if wanted {
                out.extend(from_location(&e, strict)?);
            }
        }
        return Ok(out);
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let is_json = path.extension().is_some_and(|x| x == "json");
    if is_json
        && let Ok(schema) = serde_json::from_str::<Json>(&text)
        && schema.get("kind").and_then(Json::as_str) != Some("CustomResourceDefinition")
    {
        return json_schema_file(path, schema).map(|s| vec![s]).map_err(err);
    }
    let docs = yaml::from_str_multi(&text, Flavor::Yaml11).map_err(|e| err(e.to_string()))?;
    for doc in docs {
        if doc.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
            out.extend(from_crd(&doc, strict).map_err(err)?);
        }
    }
    Ok(out)
}

/// A JSON Schema file: its kind and version from `x-kubernetes-group-version-kind`, else
/// from its name (`<kind>_<version>.json`) and directory (`<group>/`).
fn json_schema_file(path: &Path, schema: Json) -> Result<CrdSchema, String> {
    if let Some(gvk) = schema
        .get("x-kubernetes-group-version-kind")
        .and_then(|g| g.as_array().and_then(|a| a.first()).or(Some(g)))
        && let (Some(kind), Some(version)) = (
            gvk.get("kind").and_then(Json::as_str),
            gvk.get("version").and_then(Json::as_str),
        )
    {
        let group = gvk.get("group").and_then(Json::as_str).unwrap_or_default();
        let api_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        return Ok(CrdSchema {
            api_version,
            kind: kind.to_owned(),
            schema,
        });
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let group = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (kind, version) = stem.rsplit_once('_').ok_or_else(|| {
        "a JSON Schema needs x-kubernetes-group-version-kind or a name like <kind>_<version>.json in a <group>/ directory".to_owned()
    })?;
    let kind_name = schema
        .pointer("/properties/kind/enum/0")
        .and_then(Json::as_str)
        .map(str::to_owned);
    Ok(CrdSchema {
        api_version: format!("{group}/{version}"),
        // Catalog file names are lowercase; the schema's own `kind` enum has the real case.
        kind: kind_name.unwrap_or_else(|| kind.to_owned()),
        schema,
    })
}
