//! A CRD's `openAPIV3Schema` as a JSON Schema validators understand: `nullable` and
//! `x-kubernetes-int-or-string` turned into types, formats dropped (the API server only
//! checks a few, leniently), and the metadata every object has left to the server.

use serde_json::{Map, Value as Json, json};

fn convert(schema: &Json) -> Json {
    let Json::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::default();
    for (k, v) in map {
        match k.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                let converted: Map<String, Json> = v
                    .as_object()
                    .map(|props| props.iter().map(|(n, s)| (n.clone(), convert(s))).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Json::Object(converted));
            }
            "items" | "additionalProperties" | "not" if v.is_object() => {
                out.insert(k.clone(), convert(v));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let converted: Vec<Json> = v
                    .as_array()
                    .map(|items| items.iter().map(convert).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Json::Array(converted));
            }
            "format" | "nullable" | "description" | "example" | "externalDocs" => {}
            k if k.starts_with("x-kubernetes-") => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if map.get("x-kubernetes-int-or-string") == Some(&json!(true)) {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if map.get("nullable") == Some(&json!(true))
        && let Some(Json::String(t)) = out.get("type").cloned()
    {
        out.insert("type".into(), json!([t, "null"]));
    }
    Json::Object(out)
}

/// The JSON Schema that checks a custom resource against its CRD version's schema.
pub fn json_schema(open_api_v3: &Json) -> Json {
    let mut schema = convert(open_api_v3);
    if let Some(props) = schema.get_mut("properties").and_then(Json::as_object_mut) {
        props.remove("metadata");
        props.remove("apiVersion");
        props.remove("kind");
    }
    if let Some(required) = schema.get_mut("required").and_then(Json::as_array_mut) {
        required.retain(|r| !matches!(r.as_str(), Some("metadata" | "apiVersion" | "kind")));
    }
    schema
}

/// `spec.replicas` from a JSON pointer (`/spec/replicas`); list indexes stay as `[0]`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_kubernetes_extensions() {
        let s = json!({
            "type": "object",
            "required": ["spec", "metadata"],
            "properties": {
                "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}},
                "spec": {"type": "object", "properties": {
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true, "format": "hostname"},
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
                }}
            }
        });
        let out = json_schema(&s);
        assert!(out["properties"].get("metadata").is_none());
        assert_eq!(out["required"], json!(["spec"]));
        assert_eq!(
            out["properties"]["spec"]["properties"]["port"]["anyOf"][1]["type"],
            "string"
        );
        assert_eq!(
            out["properties"]["spec"]["properties"]["note"],
            json!({"type": ["string", "null"]})
        );
        let v = jsonschema::validator_for(&out).expect("compiles");
        assert!(v.is_valid(&json!({"spec": {"port": "http", "note": null, "tags": ["a"]}})));
        assert!(!v.is_valid(&json!({"spec": {"port": 1.5}})));
        assert!(!v.is_valid(&json!({"spec": {"tags": ["c"]}})));
        assert!(!v.is_valid(&json!({})));
        assert_eq!(field_path("/spec/tags/0"), "spec.tags[0]");
    }
}
