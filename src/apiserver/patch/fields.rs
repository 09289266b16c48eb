//! Field sets: which fields of an object a manager owns, computed from the object and its
//! schema (maps granular unless atomic; lists as `map` by their keys, `set`, or atomic),
//! read from and written to `managedFields` in the FieldsV1 format.

use crate::k8s::schema::SchemaNode;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;

/// One step of a path: `f:<field>`, `k:<json of list-map keys>`, `v:<json value>`, `i:<n>`.
pub type Path = Vec<String>;

/// A set of owned paths.
pub type FieldSet = BTreeSet<Path>;

/// Top-level fields nobody owns.
fn ignored_top(key: &str) -> bool {
    matches!(key, "apiVersion" | "kind")
}

/// Metadata fields nobody owns.
fn ignored_meta(key: &str) -> bool {
    matches!(
        key,
        "name"
            | "namespace"
            | "uid"
            | "resourceVersion"
            | "generation"
            | "creationTimestamp"
            | "deletionTimestamp"
            | "deletionGracePeriodSeconds"
            | "managedFields"
            | "selfLink"
    )
}

/// JSON with sorted keys, as FieldsV1 writes list-map keys.
pub fn sorted_json(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Json::String((*k).clone()), sorted_json(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(sorted_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// The `k:` step naming a list-map element. A key the server defaults (`protocol`, TCP)
/// counts with its default when absent, as on the real server.
pub fn key_step(item: &Json, keys: &[String]) -> Option<String> {
    let mut m = Map::default();
    for k in keys {
        let value = match item.get(k) {
            Some(v) => v.clone(),
            None if k == "protocol" => json!("TCP"),
            None => return None,
        };
        m.insert(k.clone(), value);
    }
    Some(format!("k:{}", sorted_json(&Json::Object(m))))
}

/// How a list is treated: by its schema's list type, defaulting to atomic.
pub enum ListKind {
    /// Elements identified by these keys.
    Map(Vec<String>),
    /// Elements identified by value.
    Set,
    /// The whole list is one value.
    Atomic,
}

/// The list kind of a field.
pub fn list_kind(schema: Option<&SchemaNode>) -> ListKind {
    let Some(info) = schema.map(SchemaNode::merge) else {
        return ListKind::Atomic;
    };
    match info.list_type.as_deref() {
        Some("map") if !info.list_map_keys.is_empty() => ListKind::Map(info.list_map_keys.clone()),
        Some("set") => ListKind::Set,
        Some("atomic") => ListKind::Atomic,
        _ => match &info.patch_merge_key {
            // Built-ins without a list type but with a strategic merge key.
            Some(k) if info.patch_strategies.iter().any(|s| s == "merge") => {
                ListKind::Map(vec![k.clone()])
            }
            _ => ListKind::Atomic,
        },
    }
}

fn atomic_map(schema: Option<&SchemaNode>) -> bool {
    schema.is_some_and(|s| s.merge().map_type.as_deref() == Some("atomic"))
}

fn collect(value: &Json, schema: Option<&SchemaNode>, path: &mut Path, out: &mut FieldSet) {
    match value {
        Json::Object(m) if !m.is_empty() && !atomic_map(schema) => {
            for (k, v) in m {
                if path.is_empty() && ignored_top(k) {
                    continue;
                }
                if path.len() == 1 && path[0] == "f:metadata" && ignored_meta(k) {
                    continue;
                }
                path.push(format!("f:{k}"));
                collect(v, schema.and_then(|s| s.field(k)).as_ref(), path, out);
                path.pop();
            }
        }
        Json::Array(items) if !items.is_empty() => match list_kind(schema) {
            ListKind::Map(keys) => {
                let item_schema = schema.and_then(SchemaNode::items);
                for item in items {
                    let Some(step) = key_step(item, &keys) else {
                        out.insert(path.clone());
                        return;
                    };
                    path.push(step);
                    out.insert(path.clone());
                    if let Json::Object(fields) = item {
                        for (k, v) in fields {
                            path.push(format!("f:{k}"));
                            collect(
                                v,
                                item_schema.as_ref().and_then(|s| s.field(k)).as_ref(),
                                path,
                                out,
                            );
                            path.pop();
                        }
                    }
                    path.pop();
                }
            }
            ListKind::Set => {
                for item in items {
                    path.push(format!("v:{}", sorted_json(item)));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            ListKind::Atomic => {
                out.insert(path.clone());
            }
        },
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// The fields an object sets, as owned paths.
pub fn field_set(value: &Json, schema: Option<&SchemaNode>) -> FieldSet {
    let mut out = FieldSet::new();
    collect(value, schema, &mut Vec::new(), &mut out);
    out
}

/// The value at a path.
pub fn get<'a>(value: &'a Json, path: &[String]) -> Option<&'a Json> {
    let mut cur = value;
    for step in path {
        cur = step_into(cur, step)?;
    }
    Some(cur)
}

fn matches_step(item: &Json, step: &str) -> bool {
    if let Some(keys) = step.strip_prefix("k:") {
        let Ok(Json::Object(want)) = serde_json::from_str::<Json>(keys) else {
            return false;
        };
        want.iter().all(|(k, v)| item.get(k) == Some(v))
    } else if let Some(v) = step.strip_prefix("v:") {
        serde_json::from_str::<Json>(v).is_ok_and(|v| v == *item)
    } else {
        false
    }
}

fn step_into<'a>(cur: &'a Json, step: &str) -> Option<&'a Json> {
    if let Some(f) = step.strip_prefix("f:") {
        return cur.get(f);
    }
    if let Some(i) = step.strip_prefix("i:") {
        return cur.get(i.parse::<usize>().ok()?);
    }
    cur.as_array()?.iter().find(|item| matches_step(item, step))
}

/// Removes the field or element at a path (nothing when it is not there).
pub fn remove(value: &mut Json, path: &[String]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = value;
    for step in parent_path {
        let next = if let Some(f) = step.strip_prefix("f:") {
            cur.get_mut(f)
        } else if let Some(i) = step.strip_prefix("i:") {
            i.parse::<usize>().ok().and_then(|i| cur.get_mut(i))
        } else {
            cur.as_array_mut()
                .and_then(|a| a.iter_mut().find(|item| matches_step(item, step)))
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(a) = cur.as_array_mut() {
        a.retain(|item| !matches_step(item, last));
    }
}

/// Reads a FieldsV1 tree into a set.
pub fn from_fields_v1(tree: &Json) -> FieldSet {
    fn walk(node: &Json, path: &mut Path, out: &mut FieldSet) {
        let Some(m) = node.as_object() else { return };
        if (m.is_empty() || m.contains_key(".")) && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, child) in m {
            if k == "." {
                continue;
            }
            path.push(k.clone());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

/// Writes a set as a FieldsV1 tree.
pub fn to_fields_v1(set: &FieldSet) -> Json {
    fn insert(node: &mut Map<String, Json>, path: &[String]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let child = node.entry(first.clone()).or_insert_with(|| json!({}));
        if let Json::Object(m) = child {
            insert(m, rest);
        }
    }
    // A member that also has members below it is marked with ".".
    fn mark(node: &mut Map<String, Json>, path: &mut Path, set: &FieldSet) {
        if !node.is_empty() && !path.is_empty() && set.contains(path) {
            node.insert(".".into(), json!({}));
        }
        for (k, child) in node.iter_mut() {
            if k == "." {
                continue;
            }
            if let Json::Object(m) = child {
                path.push(k.clone());
                mark(m, path, set);
                path.pop();
            }
        }
    }
    let mut root = Map::default();
    for path in set {
        insert(&mut root, path);
    }
    mark(&mut root, &mut Vec::new(), set);
    Json::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{KubeVersion, Schemas};

    fn schema() -> SchemaNode {
        let schemas = Schemas::for_version(&KubeVersion::default()).expect("schemas");
        SchemaNode::root(schemas, "apps/v1", "Deployment").expect("schema")
    }

    #[test]
    fn deployment_field_set_round_trips_through_fields_v1() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "c", "image": "x", "ports": [{"containerPort": 80, "protocol": "TCP"}]}
            ]}}}
        });
        let set = field_set(&d, Some(&schema()));
        let tree = to_fields_v1(&set);
        assert_eq!(tree["f:metadata"], json!({"f:labels": {"f:app": {}}}));
        assert_eq!(tree["f:spec"]["f:replicas"], json!({}));
        let c = &tree["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"];
        assert_eq!(c["."], json!({}));
        assert_eq!(c["f:image"], json!({}));
        assert!(c["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"].is_object());
        assert_eq!(from_fields_v1(&tree), set);
        let path: Path = vec![
            "f:spec".into(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"c\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(get(&d, &path), Some(&json!("x")));
        let mut d2 = d.clone();
        remove(&mut d2, &path);
        assert!(
            d2["spec"]["template"]["spec"]["containers"][0]
                .get("image")
                .is_none()
        );
    }
}
