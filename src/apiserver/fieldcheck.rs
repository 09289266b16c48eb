//! Unknown fields, checked against the kind's schema and dropped as the real server drops
//! them; `fieldValidation=Strict` refuses them, `Warn` (the default) reports them in
//! `Warning` headers, `Ignore` says nothing.

use super::resources::Resource;
use super::status::{ApiError, cause};
use crate::k8s::schema::SchemaNode;
use serde_json::Value as Json;

/// What `fieldValidation` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse unknown fields.
    Strict,
    /// Accept, and warn.
    Warn,
    /// Accept silently.
    Ignore,
}

impl Mode {
    /// Parses the query parameter (absent means Warn, as on the real server).
    pub fn parse(value: Option<&str>) -> Result<Mode, ApiError> {
        match value {
            None | Some("") | Some("Warn") => Ok(Mode::Warn),
            Some("Strict") => Ok(Mode::Strict),
            Some("Ignore") => Ok(Mode::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of Ignore, Warn or Strict, got {other:?}"
            ))),
        }
    }
}

fn walk(value: &mut Json, schema: &SchemaNode, path: &str, found: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            // Every object has these, whether its (custom) schema says so or not.
            let implicit =
                |k: &str| path.is_empty() && matches!(k, "apiVersion" | "kind" | "metadata");
            let unknown: Vec<String> = map
                .keys()
                .filter(|k| !implicit(k) && !schema.allows_field(k))
                .cloned()
                .collect();
            for k in unknown {
                map.remove(&k);
                found.push(if path.is_empty() {
                    k
                } else {
                    format!("{path}.{k}")
                });
            }
            for (k, v) in map.iter_mut() {
                if let Some(field) = schema.field(k) {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &field, &p, found);
                }
            }
        }
        Json::Array(items) => {
            if let Some(item) = schema.items() {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(v, &item, &format!("{path}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

/// Drops unknown fields from `obj`; returns the warnings to send, or the error when the
/// mode is Strict (400 for create/update, 422 for patches, as the real server answers).
pub fn check(
    obj: &mut Json,
    schema: Option<&SchemaNode>,
    mode: Mode,
    resource: &Resource,
    patch: bool,
) -> Result<Vec<String>, ApiError> {
    let Some(schema) = schema else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    walk(obj, schema, "", &mut found);
    if found.is_empty() || mode == Mode::Ignore {
        return Ok(Vec::new());
    }
    let messages: Vec<String> = found
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    match mode {
        Mode::Strict if patch => Err(ApiError::invalid(
            &resource.group,
            &resource.kind,
            obj["metadata"]["name"].as_str().unwrap_or_default(),
            found
                .iter()
                .map(|f| {
                    cause(
                        "FieldValueInvalid",
                        f,
                        "strict decoding error: field not declared in schema",
                    )
                })
                .collect(),
        )
        .with_message(format!("strict decoding error: {}", messages.join(", ")))),
        Mode::Strict => Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            resource.kind,
            resource.version,
            resource.kind,
            messages.join(", ")
        ))),
        _ => Ok(messages),
    }
}

/// Paths of keys a JSON text repeats within one object (serde keeps only the last).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Walk<'a> {
        path: String,
        found: &'a std::cell::RefCell<Vec<String>>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq
                .next_element_seed(Walk {
                    path: format!("{}[{i}]", self.path),
                    found: self.found,
                })?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.path)
                };
                if !seen.insert(key) {
                    self.found.borrow_mut().push(path.clone());
                }
                map.next_value_seed(Walk {
                    path,
                    found: self.found,
                })?;
            }
            Ok(())
        }
    }
    let found = std::cell::RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Walk {
        path: String::new(),
        found: &found,
    }
    .deserialize(&mut de);
    found.into_inner()
}

/// Duplicate keys of a JSON body, per the mode: an error (Strict), warnings (Warn), or
/// nothing (Ignore).
pub fn check_duplicates(
    body: &[u8],
    content_type: &str,
    mode: Mode,
) -> Result<Vec<String>, ApiError> {
    if mode == Mode::Ignore || !content_type.contains("json") {
        return Ok(Vec::new());
    }
    let dups = duplicate_fields(body);
    if dups.is_empty() {
        return Ok(Vec::new());
    }
    let messages: Vec<String> = dups
        .iter()
        .map(|d| format!("duplicate field \"{d}\""))
        .collect();
    match mode {
        Mode::Strict => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            messages.join(", ")
        ))),
        _ => Ok(messages),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_keys_are_found_with_their_paths() {
        let body =
            br#"{"metadata":{"name":"a","name":"b"},"data":{"x":"1"},"items":[{"k":1,"k":2}]}"#;
        assert_eq!(
            super::duplicate_fields(body),
            ["metadata.name", "items[0].k"]
        );
        assert!(super::duplicate_fields(br#"{"a":{"b":1},"c":{"b":2}}"#).is_empty());
    }

    use super::*;
    use crate::apiserver::resources::Registry;
    use crate::k8s::{KubeVersion, Schemas};
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found_dropped_and_reported() {
        let v = KubeVersion::default();
        let registry = Registry::builtin(&v);
        let res = registry
            .get("apps", "v1", "deployments")
            .expect("deployments")
            .clone();
        let schema = SchemaNode::root(
            Schemas::for_version(&v).expect("schemas"),
            "apps/v1",
            "Deployment",
        );
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"any": "ok"}},
            "spec": {"replicaz": 1, "template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}}});
        let mut o = obj.clone();
        let warnings = check(&mut o, schema.as_ref(), Mode::Warn, &res, false).expect("warn");
        assert_eq!(
            warnings,
            [
                "unknown field \"spec.replicaz\"",
                "unknown field \"spec.template.spec.containers[0].imag\""
            ]
        );
        assert!(o["spec"].get("replicaz").is_none());
        assert_eq!(o["metadata"]["labels"]["any"], "ok");
        let err = check(&mut obj.clone(), schema.as_ref(), Mode::Strict, &res, false)
            .expect_err("strict");
        assert_eq!(err.code, 400);
        assert!(
            err.message
                .contains("strict decoding error: unknown field \"spec.replicaz\""),
            "{}",
            err.message
        );
        assert_eq!(
            check(&mut obj.clone(), schema.as_ref(), Mode::Strict, &res, true)
                .expect_err("patch")
                .code,
            422
        );
        assert!(
            check(&mut obj.clone(), schema.as_ref(), Mode::Ignore, &res, false)
                .expect("ignore")
                .is_empty()
        );
    }
}
