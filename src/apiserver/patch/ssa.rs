//! Server-side apply and field ownership: `managedFields` per manager and operation,
//! conflicts with other managers (409, or taken over with `force`), fields a manager stops
//! applying removed when nobody else owns them, and ownership of what plain writes change.

use super::fields::{self, FieldSet, ListKind, Path, field_set, list_kind};
use crate::apiserver::meta;
use crate::apiserver::status::{ApiError, Cause};
use crate::k8s::schema::SchemaNode;
use serde_json::{Map, Value as Json, json};

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion the manager wrote with.
    pub api_version: String,
    /// When it last wrote.
    pub time: String,
    /// `status` for writes to the status subresource.
    pub subresource: Option<String>,
    /// The fields it owns.
    pub set: FieldSet,
}

/// Who is writing: the manager name, apiVersion and subresource of a write.
#[derive(Debug, Clone)]
pub struct Writer {
    /// `fieldManager`, or a name derived from the User-Agent.
    pub manager: String,
    /// apiVersion of the request's URL.
    pub api_version: String,
    /// Subresource written, if any.
    pub subresource: Option<String>,
}

/// Reads `metadata.managedFields`.
pub fn read(obj: &Json) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| Entry {
                    manager: e["manager"].as_str().unwrap_or_default().to_string(),
                    operation: e["operation"].as_str().unwrap_or("Update").to_string(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                    time: e["time"].as_str().unwrap_or_default().to_string(),
                    subresource: e["subresource"].as_str().map(str::to_string),
                    set: fields::from_fields_v1(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes `metadata.managedFields` (entries without fields are dropped).
pub fn write(obj: &mut Json, entries: &[Entry]) {
    let list: Vec<Json> = entries
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields::to_fields_v1(&e.set),
            });
            if let Some(sub) = &e.subresource {
                v["subresource"] = json!(sub);
            }
            v
        })
        .collect();
    if let Some(m) = obj.get_mut("metadata").and_then(Json::as_object_mut) {
        if list.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Json::Array(list));
        }
    }
}

/// A path as the real server prints it in conflicts: `.spec.containers[name="c"].image`.
pub fn display(path: &Path) -> String {
    let mut out = String::new();
    for step in path {
        if let Some(f) = step.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = step.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Json>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = step.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = step.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

fn entry_index(
    entries: &[Entry],
    manager: &str,
    operation: &str,
    sub: &Option<String>,
) -> Option<usize> {
    entries
        .iter()
        .position(|e| e.manager == manager && e.operation == operation && &e.subresource == sub)
}

/// After a plain write (create, update, patch): the writer owns the fields it changed,
/// other managers lose them, and fields that no longer exist belong to nobody. A write that
/// sets `managedFields` itself keeps what it set.
pub fn track_update(
    old: Option<&Json>,
    new: &mut Json,
    schema: Option<&SchemaNode>,
    writer: &Writer,
) {
    let old_managed = old.map(|o| o["metadata"]["managedFields"].clone());
    let new_managed = new["metadata"].get("managedFields").cloned();
    match (&new_managed, &old_managed) {
        (Some(n), Some(o)) if n != o => return,
        (Some(n), None) if !n.is_null() => return,
        _ => {}
    }
    let mut entries = old.map(read).unwrap_or_default();
    let new_set = field_set(new, schema);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| old.is_none_or(|o| fields::get(o, p) != fields::get(new, p)))
        .cloned()
        .collect();
    for e in &mut entries {
        e.set
            .retain(|p| !changed.contains(p) && fields::get(new, p).is_some());
    }
    if !changed.is_empty() {
        let sub = writer.subresource.clone();
        match entry_index(&entries, &writer.manager, "Update", &sub) {
            Some(i) => {
                entries[i].set.extend(changed);
                entries[i].api_version = writer.api_version.clone();
                entries[i].time = meta::now();
            }
            None => entries.push(Entry {
                manager: writer.manager.clone(),
                operation: "Update".into(),
                api_version: writer.api_version.clone(),
                time: meta::now(),
                subresource: sub,
                set: changed,
            }),
        }
    }
    write(new, &entries);
}

/// Whether a path names a value (compared for conflicts) rather than a list element.
fn is_value_path(path: &Path) -> bool {
    path.last().is_some_and(|s| s.starts_with("f:"))
}

fn merge(live: &mut Json, applied: &Json, schema: Option<&SchemaNode>) {
    match (live, applied) {
        (Json::Object(l), Json::Object(a))
            if schema.is_none_or(|s| s.merge().map_type.as_deref() != Some("atomic")) =>
        {
            for (k, v) in a {
                if v.is_null() {
                    l.remove(k);
                    continue;
                }
                let field = schema.and_then(|s| s.field(k));
                match l.get_mut(k) {
                    Some(lv) => merge(lv, v, field.as_ref()),
                    None => {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Json::Array(l), Json::Array(a)) => match list_kind(schema) {
            ListKind::Map(keys) => {
                let items = schema.and_then(SchemaNode::items);
                for item in a {
                    let step = fields::key_step(item, &keys);
                    let found = step.as_ref().and_then(|s| {
                        l.iter()
                            .position(|li| fields::key_step(li, &keys).as_ref() == Some(s))
                    });
                    match found {
                        Some(i) => merge(&mut l[i], item, items.as_ref()),
                        None => l.push(item.clone()),
                    }
                }
            }
            ListKind::Set => {
                for item in a {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
            }
            ListKind::Atomic => *l = a.clone(),
        },
        (live, applied) => *live = applied.clone(),
    }
}

/// Applies a configuration for `writer`: conflicts checked (unless `force`), fields the
/// writer applied before and dropped now removed when nobody else owns them, the rest
/// merged into the live object (or into an empty one when there is none).
pub fn apply(
    live: Option<&Json>,
    applied: &Json,
    schema: Option<&SchemaNode>,
    writer: &Writer,
    force: bool,
    resource: (&str, &str, &str),
) -> Result<Json, ApiError> {
    let applied_set = field_set(applied, schema);
    let mut entries = live.map(read).unwrap_or_default();
    let mut base = live.cloned().unwrap_or_else(|| json!({}));
    let mine = entry_index(&entries, &writer.manager, "Apply", &writer.subresource);
    // Conflicts with every other manager over values that would change.
    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == mine {
            continue;
        }
        for p in e.set.intersection(&applied_set) {
            if is_value_path(p) && fields::get(&base, p) != fields::get(applied, p) {
                conflicts.push((i, p.clone()));
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(conflict_error(&entries, &conflicts, resource));
        }
        for (i, p) in &conflicts {
            entries[*i].set.remove(p);
        }
    }
    // Fields this manager applied before and no longer applies.
    if let Some(i) = mine {
        let mut dropped: Vec<Path> = entries[i]
            .set
            .difference(&applied_set)
            .filter(|p| {
                !entries
                    .iter()
                    .enumerate()
                    .any(|(j, e)| j != i && e.set.contains(*p))
            })
            .cloned()
            .collect();
        dropped.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in &dropped {
            fields::remove(&mut base, p);
        }
    }
    merge(&mut base, applied, schema);
    // Shared values stay with their other owners; the applier owns its whole set.
    match mine {
        Some(i) => {
            entries[i].set = applied_set;
            entries[i].api_version = writer.api_version.clone();
            entries[i].time = meta::now();
        }
        None => entries.push(Entry {
            manager: writer.manager.clone(),
            operation: "Apply".into(),
            api_version: writer.api_version.clone(),
            time: meta::now(),
            subresource: writer.subresource.clone(),
            set: applied_set,
        }),
    }
    write(&mut base, &entries);
    Ok(base)
}

fn conflict_error(
    entries: &[Entry],
    conflicts: &[(usize, Path)],
    resource: (&str, &str, &str),
) -> ApiError {
    let (group, plural, name) = resource;
    let who = |e: &Entry| {
        if e.operation == "Apply" {
            format!("conflict with \"{}\"", e.manager)
        } else {
            format!("conflict with \"{}\" using {}", e.manager, e.api_version)
        }
    };
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|(i, p)| Cause {
            reason: "FieldManagerConflict".into(),
            message: who(&entries[*i]),
            field: display(p),
        })
        .collect();
    let summary = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: {}: {}",
            causes[0].message, causes[0].field
        )
    } else {
        let lines: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.message, c.field))
            .collect();
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let mut err = ApiError::conflict(group, plural, name, "").with_message(summary);
    if let Some(d) = err.details.as_mut() {
        d.causes = causes;
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{KubeVersion, Schemas};

    fn schema() -> SchemaNode {
        let schemas = Schemas::for_version(&KubeVersion::default()).expect("schemas");
        SchemaNode::root(schemas, "apps/v1", "Deployment").expect("schema")
    }

    fn writer(m: &str) -> Writer {
        Writer {
            manager: m.into(),
            api_version: "apps/v1".into(),
            subresource: None,
        }
    }

    fn config(replicas: i64, extra_label: bool) -> Json {
        let mut labels = json!({"app": "web"});
        if extra_label {
            labels["extra"] = json!("yes");
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}
        })
    }

    const RES: (&str, &str, &str) = ("apps", "deployments", "web");

    #[test]
    fn apply_creates_removes_dropped_fields_and_conflicts() {
        let s = schema();
        let live = apply(
            None,
            &config(1, true),
            Some(&s),
            &writer("helm"),
            false,
            RES,
        )
        .expect("create");
        assert_eq!(live["metadata"]["labels"]["extra"], "yes");
        assert_eq!(read(&live)[0].manager, "helm");
        // Re-applied without the label: it goes.
        let live = apply(
            Some(&live),
            &config(1, false),
            Some(&s),
            &writer("helm"),
            false,
            RES,
        )
        .expect("apply");
        assert!(live["metadata"]["labels"].get("extra").is_none());
        // Someone else changes replicas with a plain update.
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(5);
        track_update(Some(&live), &mut edited, Some(&s), &writer("kubectl-edit"));
        let entries = read(&edited);
        assert!(
            entries
                .iter()
                .any(|e| e.manager == "kubectl-edit" && e.operation == "Update")
        );
        // helm applying replicas 1 again conflicts with that manager…
        let err = apply(
            Some(&edited),
            &config(1, false),
            Some(&s),
            &writer("helm"),
            false,
            RES,
        )
        .expect_err("conflict");
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"
        );
        // …unless forced, which takes the field over.
        let forced = apply(
            Some(&edited),
            &config(1, false),
            Some(&s),
            &writer("helm"),
            true,
            RES,
        )
        .expect("forced");
        assert_eq!(forced["spec"]["replicas"], 1);
        assert!(read(&forced).iter().all(|e| e.manager != "kubectl-edit"));
        // Applying the same value as another owner shares ownership without conflict.
        let shared = apply(
            Some(&forced),
            &config(1, false),
            Some(&s),
            &writer("other"),
            false,
            RES,
        )
        .expect("shared");
        assert_eq!(read(&shared).len(), 2);
    }

    #[test]
    fn list_maps_merge_by_key() {
        let s = schema();
        let mut live = config(1, false);
        live["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "c", "image": "x"},
            {"name": "sidecar", "image": "s"}
        ]);
        let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "y"}]}}}});
        let out = apply(Some(&live), &applied, Some(&s), &writer("m"), false, RES).expect("apply");
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().map(Vec::len), Some(2));
        assert_eq!(cs[0]["image"], "y");
        assert_eq!(
            display(&vec![
                "f:spec".into(),
                "f:containers".into(),
                "k:{\"name\":\"c\"}".into(),
                "f:image".into()
            ]),
            ".spec.containers[name=\"c\"].image"
        );
    }
}
