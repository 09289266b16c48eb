//! What an install, upgrade or rollback would change: every object dry-run applied on the
//! server, compared with the live one as YAML (server-managed fields left out, Secret data
//! masked unless asked), plus the objects it would delete.

use super::lifecycle::{self, InstallRequest, LifecycleError, UpgradeRequest, objects_of};
use crate::cluster::Cluster;
use crate::release::storage::Storage;
use serde_json::{Map, Value as Json, json};
use std::io::Read;

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Add,
    /// Changed.
    Change,
    /// Deleted.
    Remove,
    /// Left as it is.
    Same,
}

impl ChangeKind {
    /// `add`, `change`, `remove`, `same`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Add => "add",
            ChangeKind::Change => "change",
            ChangeKind::Remove => "remove",
            ChangeKind::Same => "same",
        }
    }
}

/// One object's change.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happens.
    pub kind: ChangeKind,
    /// `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects).
    pub id: String,
    /// The object now (normalised YAML), empty when absent.
    pub before: String,
    /// The object after (normalised YAML), empty when removed.
    pub after: String,
}

/// Fields the server owns: not what a user means to change.
fn normalise(obj: &Json, show_secrets: bool) -> Json {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Json::as_object_mut) {
        for f in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(f);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Json::as_object_mut) {
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if !show_secrets && v["kind"] == "Secret" {
        for field in ["data", "stringData"] {
            if let Some(data) = v.get_mut(field).and_then(Json::as_object_mut) {
                for (_, value) in data.iter_mut() {
                    let len = value.as_str().map_or(0, str::len);
                    *value = json!(format!("++++++++ (masked, {len} characters)"));
                }
            }
        }
    }
    sorted(&v)
}

fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect::<Map<_, _>>(),
            )
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn yaml(v: &Json) -> String {
    crate::value::Value::from_json(&v.to_string())
        .map(|value| crate::value::yaml::to_string(&value))
        .unwrap_or_default()
}

fn id(obj: &Json, namespaced: bool) -> String {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    match obj["metadata"]["namespace"].as_str().filter(|_| namespaced) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Compares each desired object with the server's dry run of applying it, and lists the
/// `previous` objects that would be deleted.
async fn compare(
    cluster: &Cluster,
    desired: &[Json],
    previous: &[Json],
    release: &str,
    namespace: &str,
    field_manager: &str,
    show_secrets: bool,
) -> Result<Vec<Change>, LifecycleError> {
    let mut out = Vec::new();
    let key = |o: &Json| {
        (
            o["apiVersion"]
                .as_str()
                .and_then(|a| a.split_once('/').map(|(g, _)| g.to_string()))
                .unwrap_or_default(),
            o["kind"].as_str().unwrap_or_default().to_string(),
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    for obj in desired {
        let mut marked = obj.clone();
        lifecycle::mark(&mut marked, release, namespace);
        let live = cluster.get(&marked, namespace).await?;
        let after = cluster
            .apply_dry_run(&marked, namespace, field_manager)
            .await?;
        let after_json = serde_json::to_value(&after).unwrap_or(Json::Null);
        let namespaced = after.metadata.namespace.is_some();
        let after_yaml = yaml(&normalise(&after_json, show_secrets));
        let (kind, before_yaml) = match live {
            None => (ChangeKind::Add, String::new()),
            Some(live) => {
                let before = yaml(&normalise(
                    &serde_json::to_value(&live).unwrap_or(Json::Null),
                    show_secrets,
                ));
                let k = if before == after_yaml {
                    ChangeKind::Same
                } else {
                    ChangeKind::Change
                };
                (k, before)
            }
        };
        out.push(Change {
            kind,
            id: id(&after_json, namespaced),
            before: before_yaml,
            after: after_yaml,
        });
    }
    let wanted: Vec<_> = desired.iter().map(key).collect();
    for obj in previous {
        if wanted.contains(&key(obj)) {
            continue;
        }
        if let Some(live) = cluster.get(obj, namespace).await? {
            let v = serde_json::to_value(&live).unwrap_or(Json::Null);
            let kept = v["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep";
            out.push(Change {
                kind: if kept {
                    ChangeKind::Same
                } else {
                    ChangeKind::Remove
                },
                id: id(&v, live.metadata.namespace.is_some()),
                before: yaml(&normalise(&v, show_secrets)),
                after: if kept {
                    yaml(&normalise(&v, show_secrets))
                } else {
                    String::new()
                },
            });
        }
    }
    Ok(out)
}

/// What installing would change.
pub async fn install(
    cluster: &Cluster,
    req: &InstallRequest,
    show_secrets: bool,
    stdin: &mut dyn Read,
) -> Result<Vec<Change>, LifecycleError> {
    let mut req = req.clone();
    req.template.capabilities = Some(cluster.capabilities().await?);
    let (rel, _) = lifecycle::render_release_live(cluster, &req, 1, stdin).await?;
    let desired = objects_of(&rel.manifest);
    compare(
        cluster,
        &desired,
        &[],
        &rel.name,
        &rel.namespace,
        &req.apply.field_manager,
        show_secrets,
    )
    .await
}

/// What upgrading would change.
pub async fn upgrade(
    cluster: &Cluster,
    storage: &Storage,
    req: &UpgradeRequest,
    show_secrets: bool,
    stdin: &mut dyn Read,
) -> Result<Vec<Change>, LifecycleError> {
    let mut dry = req.clone();
    dry.dry_run = true;
    let rel = lifecycle::upgrade(cluster, storage, &dry, stdin).await?;
    let history = storage.history(&rel.namespace, &rel.name).await?;
    let previous = history
        .iter()
        .rev()
        .find(|r| r.info.status == crate::release::status::DEPLOYED)
        .map(|r| objects_of(&r.manifest))
        .unwrap_or_default();
    compare(
        cluster,
        &objects_of(&rel.manifest),
        &previous,
        &rel.name,
        &rel.namespace,
        &req.apply.field_manager,
        show_secrets,
    )
    .await
}

/// What rolling back to `revision` (0 = the previous one) would change.
pub async fn rollback(
    cluster: &Cluster,
    storage: &Storage,
    namespace: &str,
    name: &str,
    revision: i64,
    field_manager: &str,
    show_secrets: bool,
) -> Result<Vec<Change>, LifecycleError> {
    let history = storage.history(namespace, name).await?;
    let current = history
        .iter()
        .rev()
        .find(|r| r.info.status == crate::release::status::DEPLOYED)
        .ok_or_else(|| LifecycleError::User(format!("\"{name}\" has no deployed releases")))?;
    let target_rev = if revision > 0 {
        revision
    } else {
        current.version - 1
    };
    let target = history
        .iter()
        .find(|r| r.version == target_rev)
        .ok_or_else(|| {
            LifecycleError::User(format!("release \"{name}\" has no revision {target_rev}"))
        })?;
    compare(
        cluster,
        &objects_of(&target.manifest),
        &objects_of(&current.manifest),
        name,
        namespace,
        field_manager,
        show_secrets,
    )
    .await
}

/// A unified diff of one change (`context` lines around each hunk), optionally colored.
pub fn unified(change: &Change, context: usize, color: bool) -> String {
    let (old_name, new_name) = match change.kind {
        ChangeKind::Add => ("/dev/null".to_string(), change.id.clone()),
        ChangeKind::Remove => (change.id.clone(), "/dev/null".to_string()),
        _ => (change.id.clone(), change.id.clone()),
    };
    let diff = similar::TextDiff::from_lines(&change.before, &change.after);
    let text = diff
        .unified_diff()
        .context_radius(context)
        .header(&old_name, &new_name)
        .to_string();
    if !color {
        return text;
    }
    text.lines()
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                format!("\x1b[1m{l}\x1b[0m")
            } else if l.starts_with('+') {
                format!("\x1b[32m{l}\x1b[0m")
            } else if l.starts_with('-') {
                format!("\x1b[31m{l}\x1b[0m")
            } else if l.starts_with("@@") {
                format!("\x1b[36m{l}\x1b[0m")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `N to add, N to change, N to remove`.
pub fn summary(changes: &[Change]) -> String {
    let count = |k: ChangeKind| changes.iter().filter(|c| c.kind == k).count();
    format!(
        "{} to add, {} to change, {} to remove, {} unchanged",
        count(ChangeKind::Add),
        count(ChangeKind::Change),
        count(ChangeKind::Remove),
        count(ChangeKind::Same)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_dropped_and_secrets_masked() {
        let obj = json!({"kind": "Secret", "metadata": {"name": "s", "uid": "x", "resourceVersion": "3", "managedFields": []},
            "data": {"password": "czNjcmV0"}, "status": {}});
        let n = normalise(&obj, false);
        assert_eq!(
            n,
            json!({"data": {"password": "++++++++ (masked, 8 characters)"}, "kind": "Secret", "metadata": {"name": "s"}})
        );
        assert_eq!(normalise(&obj, true)["data"]["password"], "czNjcmV0");
        let change = Change {
            kind: ChangeKind::Change,
            id: "ConfigMap/d/c".into(),
            before: "a: 1\nb: 2\n".into(),
            after: "a: 1\nb: 3\n".into(),
        };
        let text = unified(&change, 3, false);
        assert!(
            text.contains("--- ConfigMap/d/c\n+++ ConfigMap/d/c\n"),
            "{text}"
        );
        assert!(text.contains("-b: 2\n+b: 3\n"), "{text}");
        assert_eq!(
            summary(&[change]),
            "0 to add, 1 to change, 0 to remove, 0 unchanged"
        );
    }
}
