//! Strategic merge patch over JSON, driven by the kind's schema: lists merge by their
//! merge key (or as sets, or are replaced), with the directives `$patch`, `$retainKeys`,
//! `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`.

use crate::k8s::schema::SchemaNode;
use serde_json::{Map, Value as Json};

/// Why a patch could not be applied (a 422 for the caller).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SmpError(pub String);

fn err(s: impl Into<String>) -> SmpError {
    SmpError(s.into())
}

const ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

/// Removes directive keys from a value about to be stored as is.
fn strip(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .map(strip)
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Applies `patch` to `target` (a whole object) with the kind's schema.
pub fn apply(target: &mut Json, patch: &Json, schema: Option<&SchemaNode>) -> Result<(), SmpError> {
    let Json::Object(patch) = patch else {
        return Err(err("a strategic merge patch must be a JSON object"));
    };
    if !target.is_object() {
        *target = Json::Object(Map::default());
    }
    let Json::Object(map) = target else {
        return Ok(());
    };
    if merge_map(map, patch, schema)? {
        map.clear();
    }
    Ok(())
}

/// Merges a patch map into a map; returns true when the map itself is to be deleted.
fn merge_map(
    target: &mut Map<String, Json>,
    patch: &Map<String, Json>,
    schema: Option<&SchemaNode>,
) -> Result<bool, SmpError> {
    match patch.get("$patch").and_then(Json::as_str) {
        Some("delete") => return Ok(true),
        Some("replace") => {
            *target = match strip(&Json::Object(patch.clone())) {
                Json::Object(m) => m,
                _ => Map::default(),
            };
            return Ok(false);
        }
        Some("merge") | None => {}
        Some(other) => return Err(err(format!("unknown patch type: {other}"))),
    }
    let retain: Option<Vec<String>> = match patch.get("$retainKeys") {
        Some(Json::Array(keys)) => Some(
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
        ),
        Some(_) => return Err(err("$retainKeys must be a list of field names")),
        None => None,
    };
    for (key, value) in patch {
        if key.starts_with('$') {
            continue;
        }
        let field = schema.and_then(|s| s.field(key));
        if value.is_null() {
            target.remove(key);
            continue;
        }
        match (target.get_mut(key), value) {
            (Some(Json::Object(existing)), Json::Object(p)) => {
                let atomic = field
                    .as_ref()
                    .is_some_and(|f| f.merge().map_type.as_deref() == Some("atomic"));
                if atomic {
                    target.insert(key.clone(), strip(value));
                } else if merge_map(existing, p, field.as_ref())? {
                    target.remove(key);
                }
            }
            (Some(Json::Array(existing)), Json::Array(p)) => {
                merge_list(existing, p, field.as_ref())?;
            }
            (_, Json::Object(p)) => {
                if p.get("$patch").and_then(Json::as_str) == Some("delete") {
                    target.remove(key);
                } else {
                    let mut fresh = Map::default();
                    merge_map(&mut fresh, p, field.as_ref())?;
                    target.insert(key.clone(), Json::Object(fresh));
                }
            }
            (_, v) => {
                target.insert(key.clone(), strip(v));
            }
        }
    }
    // $deleteFromPrimitiveList/<field>: values removed from a list of scalars.
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM) {
            let Json::Array(gone) = value else {
                return Err(err(format!("{key} must be a list")));
            };
            if let Some(Json::Array(list)) = target.get_mut(field) {
                list.retain(|v| !gone.contains(v));
            }
        }
    }
    // $setElementOrder/<field>: the final order of a merged list.
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(ORDER) {
            let Json::Array(order) = value else {
                return Err(err(format!("{key} must be a list")));
            };
            let merge_key = schema
                .and_then(|s| s.field(field))
                .and_then(|f| f.merge().patch_merge_key.clone());
            if let Some(Json::Array(list)) = target.get_mut(field) {
                reorder(list, order, merge_key.as_deref());
            }
        }
    }
    if let Some(keep) = retain {
        target.retain(|k, _| keep.iter().any(|r| r == k));
    }
    Ok(false)
}

/// Sorts `list` so the elements named in `order` come in that order; others keep their
/// place relative to each other, after the ordered ones they followed.
fn reorder(list: &mut [Json], order: &[Json], merge_key: Option<&str>) {
    let position = |item: &Json| {
        order.iter().position(|o| match merge_key {
            Some(k) => o.get(k).is_some() && o.get(k) == item.get(k),
            None => o == item,
        })
    };
    let mut last = 0usize;
    let mut keyed: Vec<(usize, usize, Json)> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let p = match position(item) {
            Some(p) => {
                last = p;
                p
            }
            None => last,
        };
        keyed.push((p, i, item.clone()));
    }
    keyed.sort_by_key(|(p, i, _)| (*p, *i));
    for (slot, (_, _, item)) in list.iter_mut().zip(keyed) {
        *slot = item;
    }
}

fn merge_list(
    target: &mut Vec<Json>,
    patch: &[Json],
    schema: Option<&SchemaNode>,
) -> Result<(), SmpError> {
    let info = schema.map(|s| s.merge().clone()).unwrap_or_default();
    let replace_all = patch
        .iter()
        .any(|p| p.get("$patch").and_then(Json::as_str) == Some("replace"));
    if replace_all || !info.patch_strategies.iter().any(|s| s == "merge") {
        *target = patch
            .iter()
            .filter(|p| p.get("$patch").is_none())
            .map(strip)
            .collect();
        return Ok(());
    }
    let items = schema.and_then(SchemaNode::items);
    match &info.patch_merge_key {
        Some(key) => {
            for p in patch {
                let Json::Object(pm) = p else {
                    return Err(err(format!(
                        "the list elements must be maps with the merge key {key:?}"
                    )));
                };
                let Some(id) = pm.get(key) else {
                    return Err(err(format!(
                        "a list element is missing its merge key {key:?}"
                    )));
                };
                let found = target.iter().position(|t| t.get(key) == Some(id));
                match pm.get("$patch").and_then(Json::as_str) {
                    Some("delete") => {
                        target.retain(|t| t.get(key) != Some(id));
                    }
                    _ => match found {
                        Some(i) => {
                            if let Json::Object(existing) = &mut target[i]
                                && merge_map(existing, pm, items.as_ref())?
                            {
                                target.remove(i);
                            }
                        }
                        None => {
                            let mut fresh = Map::default();
                            merge_map(&mut fresh, pm, items.as_ref())?;
                            target.push(Json::Object(fresh));
                        }
                    },
                }
            }
        }
        None => {
            // A merged list of scalars is a set.
            for p in patch {
                if !target.contains(p) {
                    target.push(strip(p));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{KubeVersion, Schemas};
    use serde_json::json;

    fn deploy_schema() -> SchemaNode {
        let schemas = Schemas::for_version(&KubeVersion::default()).expect("schemas");
        SchemaNode::root(schemas, "apps/v1", "Deployment").expect("deployment schema")
    }

    fn deployment() -> Json {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a"]},
            "spec": {
                "replicas": 1,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
                "template": {"spec": {"containers": [
                    {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}, {"containerPort": 81}]},
                    {"name": "sidecar", "image": "side:1"}
                ]}}
            }
        })
    }

    #[test]
    fn containers_and_env_merge_by_name() {
        let mut d = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}
        ]}}}});
        apply(&mut d, &patch, Some(&deploy_schema())).expect("patch");
        let cs = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().map(Vec::len), Some(2), "sidecar kept");
        assert_eq!(cs[0]["image"], "app:2");
        assert_eq!(
            cs[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn directives() {
        let mut d = deployment();
        let patch = json!({
            "metadata": {"labels": {"tier": null}, "$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {
                "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                "template": {"spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                    "containers": [{"name": "app", "ports": [{"$patch": "delete", "containerPort": 81}]}]
                }}
            }
        });
        apply(&mut d, &patch, Some(&deploy_schema())).expect("patch");
        assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(d["metadata"]["finalizers"], json!([]));
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        let cs = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["name"], "sidecar");
        assert_eq!(cs[1]["ports"], json!([{"containerPort": 80}]));
        assert!(
            d.to_string().find('$').is_none(),
            "no directive is stored: {d}"
        );
    }

    #[test]
    fn lists_without_strategy_are_replaced_and_replace_directive() {
        let mut d = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "args": ["x"]}
        ]}}}});
        apply(&mut d, &patch, Some(&deploy_schema())).expect("patch");
        apply(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "args": ["y"]}
            ]}}}}),
            Some(&deploy_schema()),
        )
        .expect("patch");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["y"])
        );
        apply(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [
                {"$patch": "replace"}, {"name": "only", "image": "x"}
            ]}}}}),
            Some(&deploy_schema()),
        )
        .expect("patch");
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );
    }
}
