//! Workloads that behave: a built-in controller reacting to store events, so that
//! `helm --wait`, hooks and `kubectl rollout` work offline. Deployments get one owned
//! ReplicaSet per pod template (old ones scaled to 0, trimmed to `revisionHistoryLimit`),
//! ReplicaSets and StatefulSets get Pods, StatefulSets their PVCs, Pods become Ready (or
//! Succeeded when they do not restart), Jobs complete, PVCs bind, LoadBalancers get an IP.
//!
//! Per-object annotations make a workload misbehave, for testing waits and timeouts:
//! `sim.pack.dev/ready: never` (never ready), `sim.pack.dev/ready: fail` (a Deployment
//! exceeds its progress deadline, a Job fails, a Pod fails), `sim.pack.dev/ready-after: 5s`
//! (ready only after that long).

use super::Shared;
use super::meta::{self, meta_str};
use super::status::ApiError;
use super::store::{Event, EventType, Key, Txn};
use serde_json::{Value as Json, json};
use sha2::Digest as _;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const DEPLOYMENTS: &str = "apps/deployments";
const REPLICASETS: &str = "apps/replicasets";
const STATEFULSETS: &str = "apps/statefulsets";
const DAEMONSETS: &str = "apps/daemonsets";
const JOBS: &str = "batch/jobs";
const PODS: &str = "/pods";
const PVCS: &str = "/persistentvolumeclaims";
const SERVICES: &str = "/services";
const RCS: &str = "/replicationcontrollers";
const CRONJOBS: &str = "batch/cronjobs";
const NODES: &str = "/nodes";
const PVS: &str = "/persistentvolumes";

/// The annotation that makes a workload misbehave.
pub const READY: &str = "sim.pack.dev/ready";
/// The annotation that delays readiness.
pub const READY_AFTER: &str = "sim.pack.dev/ready-after";

/// Delays already waited out, by object uid and generation.
type Waited = Arc<Mutex<HashSet<(String, i64)>>>;

/// Starts the controller on the current runtime.
pub fn spawn(shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut rx, _) = shared.store.subscribe(|_| ());
        let waited: Waited = Arc::default();
        resync(&shared, &waited).await;
        let mut stopping = shared.stopping.clone();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = stopping.changed() => return,
                _ = tick.tick() => {
                    // CronJobs come due with time, not with events.
                    let due: Vec<Key> = shared.store.read().range(CRONJOBS, None, None)
                        .map(|((ns, name), _)| Key::new(CRONJOBS, ns, name)).collect();
                    for key in due {
                        reconcile(&shared, &waited, key).await;
                    }
                }
                event = rx.recv() => match event {
                    Ok(e) => handle(&shared, &waited, &e).await,
                    Err(RecvError::Lagged(_)) => resync(&shared, &waited).await,
                    Err(RecvError::Closed) => return,
                },
            }
        }
    })
}

async fn resync(shared: &Arc<Shared>, waited: &Waited) {
    let keys: Vec<Key> = {
        let state = shared.store.read();
        [
            DEPLOYMENTS,
            REPLICASETS,
            STATEFULSETS,
            DAEMONSETS,
            JOBS,
            PODS,
            PVCS,
            SERVICES,
        ]
        .iter()
        .flat_map(|s| {
            state
                .range(s, None, None)
                .map(|((ns, name), _)| Key::new(s, ns, name))
                .collect::<Vec<_>>()
        })
        .collect()
    };
    for key in keys {
        reconcile(shared, waited, key).await;
    }
}

async fn handle(shared: &Arc<Shared>, waited: &Waited, event: &Event) {
    if event.kind == EventType::Deleted {
        return;
    }
    let key = event.key.clone();
    // Pods and ReplicaSets also report to their owners.
    if key.storage == PODS || key.storage == REPLICASETS || key.storage == JOBS {
        let value = event.object.value();
        if let Some(owner) = value["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
        {
            let storage = match owner["kind"].as_str() {
                Some("ReplicaSet") => Some(REPLICASETS),
                Some("Deployment") => Some(DEPLOYMENTS),
                Some("StatefulSet") => Some(STATEFULSETS),
                Some("ReplicationController") => Some(RCS),
                Some("DaemonSet") => Some(DAEMONSETS),
                Some("CronJob") => Some(CRONJOBS),
                _ => None,
            };
            if let (Some(storage), Some(name)) = (storage, owner["name"].as_str()) {
                reconcile(shared, waited, Key::new(storage, &key.namespace, name)).await;
            }
        }
    }
    reconcile(shared, waited, key).await;
}

/// What the annotations ask of an object right now.
enum Behaviour {
    Ready,
    NotYet,
    Fail,
}

fn behaviour(obj: &Json, waited: &Waited, shared: &Arc<Shared>, key: &Key) -> Behaviour {
    let annotations = &obj["metadata"]["annotations"];
    match annotations[READY].as_str() {
        Some("never") => return Behaviour::NotYet,
        Some("fail") => return Behaviour::Fail,
        _ => {}
    }
    let Some(delay) = annotations[READY_AFTER].as_str().and_then(parse_duration) else {
        return Behaviour::Ready;
    };
    let uid = meta_str(obj, "uid").unwrap_or_default().to_string();
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(0);
    let id = (uid, generation);
    let pending = (format!("pending:{}", id.0), id.1);
    let mut done = waited.lock().unwrap_or_else(|p| p.into_inner());
    if done.contains(&id) {
        return Behaviour::Ready;
    }
    if !done.insert(pending) {
        return Behaviour::NotYet;
    }
    drop(done);
    // Come back when the delay is over.
    let shared = shared.clone();
    let waited2 = waited.clone();
    let key = key.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        waited2.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
        Box::pin(reconcile(&shared, &waited2, key)).await;
    });
    Behaviour::NotYet
}

fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(m) = s.strip_suffix('m') {
        return m.parse::<u64>().ok().map(|m| Duration::from_secs(m * 60));
    }
    s.strip_suffix('s')
        .unwrap_or(s)
        .parse::<f64>()
        .ok()
        .map(Duration::from_secs_f64)
}

async fn reconcile(shared: &Arc<Shared>, waited: &Waited, key: Key) {
    let Some((obj, seen)) = shared.store.read().get(&key).map(|o| (o.value(), o.rv)) else {
        return;
    };
    if obj["metadata"].get("deletionTimestamp").is_some() {
        return;
    }
    let how = behaviour(&obj, waited, shared, &key);
    let storage = key.storage.clone();
    let result = shared
        .store
        .write(move |txn| match storage.as_str() {
            // `how` was decided on the object as read above. Written since (a rollback
            // taking an annotation away), it is decided afresh by the reconcile that write
            // queued; a stale decision would stamp the new generation with the old state.
            _ if txn.get(&key).map(|o| o.rv) != Some(seen) => Ok(()),
            DEPLOYMENTS => deployment(txn, &key, how),
            REPLICASETS | RCS => replica_set(txn, &key, how),
            CRONJOBS => cron_job(txn, &key),
            STATEFULSETS => stateful_set(txn, &key, how),
            DAEMONSETS => daemon_set(txn, &key, how),
            JOBS => job(txn, &key, how),
            PODS => pod(txn, &key, how),
            PVCS => pvc(txn, &key),
            SERVICES => service(txn, &key),
            _ => Ok(()),
        })
        .await;
    if let Err(e) = result
        && shared.log_requests
    {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "controller: {e}");
    }
}

/// Writes `new` over the stored object when it differs (a status write: no generation bump).
fn save(txn: &mut Txn<'_>, key: &Key, old: &Json, new: Json) -> Result<(), ApiError> {
    if !meta::same_content(old, &new) {
        txn.put(key, new)?;
    }
    Ok(())
}

fn hash_of(v: &Json) -> String {
    let digest = sha2::Sha256::digest(super::patch::fields::sorted_json(v).as_bytes());
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    digest[..10]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn owner_ref(obj: &Json) -> Json {
    json!({
        "apiVersion": obj["apiVersion"], "kind": obj["kind"],
        "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true,
    })
}

fn owned_by(obj: &Json, uid: &Json) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["uid"] == *uid))
}

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Json {
    let now = meta::now();
    json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// Creates an object with server-set metadata inside the controller's transaction.
fn create(txn: &mut Txn<'_>, storage: &str, ns: &str, mut obj: Json) -> Result<(), ApiError> {
    let name = meta_str(&obj, "name").unwrap_or_default().to_string();
    let key = Key::new(storage, ns, &name);
    if txn.get(&key).is_some() {
        return Ok(());
    }
    obj["metadata"]["namespace"] = json!(ns);
    obj["metadata"]["uid"] = json!(meta::uuid());
    obj["metadata"]["creationTimestamp"] = json!(meta::now());
    if storage != PODS && storage != PVCS {
        obj["metadata"]["generation"] = json!(1);
    }
    txn.put(&key, obj)?;
    Ok(())
}

fn replicas(obj: &Json) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn deployment(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(d) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    let uid = d["metadata"]["uid"].clone();
    let template = d["spec"]["template"].clone();
    let hash = hash_of(&template);
    let want = replicas(&d);
    let sets: Vec<(Key, Json)> = txn
        .list(REPLICASETS, Some(&key.namespace))
        .into_iter()
        .map(|(k, o)| (k, o.value()))
        .filter(|(_, rs)| owned_by(rs, &uid))
        .collect();
    let revision_of = |rs: &Json| -> i64 {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    };
    let max_revision = sets
        .iter()
        .map(|(_, rs)| revision_of(rs))
        .max()
        .unwrap_or(0);
    let current = sets
        .iter()
        .find(|(_, rs)| rs["metadata"]["labels"]["pod-template-hash"] == hash.as_str());
    let new_name = format!("{}-{hash}", key.name);
    // A set that becomes current again (a rollback) gets the next revision.
    let revision = match current {
        Some((_, rs)) if revision_of(rs) == max_revision => max_revision,
        _ => max_revision + 1,
    };
    // Scale: the current set to the wanted count, every other to zero.
    for (k, rs) in &sets {
        let target = if k.name == new_name { want } else { 0 };
        let mut next = rs.clone();
        next["spec"]["replicas"] = json!(target);
        if k.name == new_name {
            next["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                json!(want.to_string());
            next["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                json!(revision.to_string());
        }
        save(txn, k, rs, next)?;
    }
    if current.is_none() {
        let mut labels = template["metadata"]["labels"].clone();
        labels["pod-template-hash"] = json!(hash);
        let mut selector = d["spec"]["selector"].clone();
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let mut tmpl = template.clone();
        tmpl["metadata"]["labels"] = labels.clone();
        let mut annotations = json!({
            "deployment.kubernetes.io/revision": revision.to_string(),
            "deployment.kubernetes.io/desired-replicas": want.to_string(),
            "deployment.kubernetes.io/max-replicas": want.to_string(),
        });
        for a in [READY, READY_AFTER] {
            if let Some(v) = d["metadata"]["annotations"].get(a) {
                annotations[a] = v.clone();
            }
        }
        let rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": new_name, "labels": labels,
                "annotations": annotations,
                "ownerReferences": [owner_ref(&d)],
            },
            "spec": {"replicas": want, "selector": selector, "template": tmpl, "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0)},
        });
        create(txn, REPLICASETS, &key.namespace, rs)?;
    }
    // Old sets beyond the history limit go (oldest first).
    let limit = d["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(0) as usize;
    let mut old: Vec<&(Key, Json)> = sets.iter().filter(|(k, _)| k.name != new_name).collect();
    old.sort_by_key(|(_, rs)| revision_of(rs));
    if old.len() > limit {
        for (k, _) in &old[..old.len() - limit] {
            txn.delete(k)?;
            for (pk, _) in txn.list(PODS, Some(&key.namespace)) {
                if pk.name.starts_with(&format!("{}-", k.name)) {
                    txn.delete(&pk)?;
                }
            }
        }
    }
    let ready = match how {
        Behaviour::Ready => want,
        _ => 0,
    };
    let mut next = d.clone();
    next["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
        json!(revision.to_string());
    let rs_name = format!("ReplicaSet \"{new_name}\"");
    let conditions = match how {
        Behaviour::Ready => vec![
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            ),
            condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("{rs_name} has successfully progressed."),
            ),
        ],
        Behaviour::NotYet => vec![
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            ),
            condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("{rs_name} is progressing."),
            ),
        ],
        Behaviour::Fail => vec![
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            ),
            condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("{rs_name} has timed out progressing."),
            ),
        ],
    };
    let mut status = json!({
        "observedGeneration": d["metadata"]["generation"],
        "replicas": want,
        "updatedReplicas": want,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "conditions": conditions,
    });
    if want - ready > 0 {
        status["unavailableReplicas"] = json!(want - ready);
    }
    // Keep transition times when nothing changed.
    if d["status"]["conditions"]
        .as_array()
        .zip(status["conditions"].as_array())
        .is_some_and(|(a, b)| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x["type"] == y["type"]
                        && x["status"] == y["status"]
                        && x["reason"] == y["reason"]
                })
        })
    {
        status["conditions"] = d["status"]["conditions"].clone();
    }
    next["status"] = status;
    save(txn, key, &d, next)
}

fn pod_from_template(owner: &Json, name: &str, template: &Json, ready: bool) -> Json {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"]["labels"], "ownerReferences": [owner_ref(owner)]},
        "spec": template["spec"],
    });
    if let Some(a) = template["metadata"].get("annotations") {
        pod["metadata"]["annotations"] = a.clone();
    }
    pod["status"] = pod_status(
        &pod,
        if ready {
            Behaviour::Ready
        } else {
            Behaviour::NotYet
        },
    );
    pod
}

fn pod_status(pod: &Json, how: Behaviour) -> Json {
    let restarts = !matches!(
        pod["spec"]["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    );
    let now = meta::now();
    let cond = |t: &str, s: &str| json!({"type": t, "status": s, "lastTransitionTime": now});
    let containers: Vec<Json> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| json!({"name": c["name"], "image": c["image"], "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": now}}}))
                .collect()
        })
        .unwrap_or_default();
    let (phase, ready) = match (how, restarts) {
        (Behaviour::Fail, _) => ("Failed", "False"),
        (Behaviour::NotYet, _) => ("Pending", "False"),
        (Behaviour::Ready, true) => ("Running", "True"),
        (Behaviour::Ready, false) => ("Succeeded", "False"),
    };
    json!({
        "phase": phase,
        "conditions": [cond("PodScheduled", "True"), cond("Initialized", "True"), cond("ContainersReady", ready), cond("Ready", ready)],
        "hostIP": "10.0.0.2", "podIP": "10.244.0.10", "startTime": now,
        "containerStatuses": containers, "qosClass": "BestEffort",
    })
}

fn replica_set(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(rs) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    let uid = rs["metadata"]["uid"].clone();
    let want = replicas(&rs).max(0) as usize;
    let mut pods: Vec<Key> = txn
        .list(PODS, Some(&key.namespace))
        .into_iter()
        .filter(|(_, p)| owned_by(&p.value(), &uid))
        .map(|(k, _)| k)
        .collect();
    let ready = matches!(how, Behaviour::Ready);
    while pods.len() < want {
        let name = format!("{}-{}", key.name, meta::name_suffix());
        let pod = pod_from_template(&rs, &name, &rs["spec"]["template"], ready);
        create(txn, PODS, &key.namespace, pod)?;
        pods.push(Key::new(PODS, &key.namespace, &name));
    }
    while pods.len() > want {
        if let Some(k) = pods.pop() {
            txn.delete(&k)?;
        }
    }
    let n = want as i64;
    let r = if ready { n } else { 0 };
    let mut next = rs.clone();
    next["status"] = json!({"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": r, "availableReplicas": r, "observedGeneration": rs["metadata"]["generation"]});
    save(txn, key, &rs, next)
}

fn stateful_set(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(ss) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    let want = replicas(&ss).max(0);
    let ready = matches!(how, Behaviour::Ready);
    let revision = format!("{}-{}", key.name, hash_of(&ss["spec"]["template"]));
    for i in 0..want {
        let name = format!("{}-{i}", key.name);
        for tmpl in ss["spec"]["volumeClaimTemplates"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let claim = format!(
                "{}-{name}",
                tmpl["metadata"]["name"].as_str().unwrap_or("data")
            );
            let pvc = json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "labels": ss["spec"]["selector"]["matchLabels"]},
                "spec": tmpl["spec"],
            });
            create(txn, PVCS, &key.namespace, pvc)?;
        }
        let mut tmpl = ss["spec"]["template"].clone();
        tmpl["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = json!(name);
        tmpl["metadata"]["labels"]["controller-revision-hash"] = json!(revision);
        let pod = pod_from_template(&ss, &name, &tmpl, ready);
        create(txn, PODS, &key.namespace, pod)?;
    }
    let mut i = want;
    while txn
        .get(&Key::new(
            PODS,
            &key.namespace,
            &format!("{}-{i}", key.name),
        ))
        .is_some()
    {
        txn.delete(&Key::new(
            PODS,
            &key.namespace,
            &format!("{}-{i}", key.name),
        ))?;
        i += 1;
    }
    let r = if ready { want } else { 0 };
    let mut next = ss.clone();
    next["status"] = json!({
        "observedGeneration": ss["metadata"]["generation"], "replicas": want, "readyReplicas": r,
        "currentReplicas": want, "updatedReplicas": want, "availableReplicas": r,
        "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
    });
    save(txn, key, &ss, next)
}

fn daemon_set(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(ds) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    let nodes: Vec<String> = txn
        .list(NODES, None)
        .into_iter()
        .map(|(k, _)| k.name)
        .collect();
    let uid = ds["metadata"]["uid"].clone();
    let ready = matches!(how, Behaviour::Ready);
    let hash = hash_of(&ds["spec"]["template"]);
    let pods: Vec<(Key, Json)> = txn
        .list(PODS, Some(&key.namespace))
        .into_iter()
        .map(|(k, o)| (k, o.value()))
        .filter(|(_, p)| owned_by(p, &uid))
        .collect();
    for node in &nodes {
        let current = pods
            .iter()
            .find(|(_, p)| p["spec"]["nodeName"] == node.as_str());
        let stale = current.is_some_and(|(_, p)| {
            p["metadata"]["labels"]["controller-revision-hash"] != hash.as_str()
        });
        if let Some((k, _)) = current.filter(|_| stale) {
            txn.delete(k)?;
        }
        if current.is_none() || stale {
            let mut tmpl = ds["spec"]["template"].clone();
            tmpl["metadata"]["labels"]["controller-revision-hash"] = json!(hash);
            tmpl["spec"]["nodeName"] = json!(node);
            let name = format!("{}-{}", key.name, meta::name_suffix());
            create(
                txn,
                PODS,
                &key.namespace,
                pod_from_template(&ds, &name, &tmpl, ready),
            )?;
        }
    }
    for (k, p) in &pods {
        if !nodes.iter().any(|n| p["spec"]["nodeName"] == n.as_str()) {
            txn.delete(k)?;
        }
    }
    let n = nodes.len() as i64;
    let r = if ready { n } else { 0 };
    let mut next = ds.clone();
    next["status"] = json!({
        "observedGeneration": ds["metadata"]["generation"], "desiredNumberScheduled": n,
        "currentNumberScheduled": n, "updatedNumberScheduled": n, "numberReady": r,
        "numberAvailable": r, "numberMisscheduled": 0,
    });
    save(txn, key, &ds, next)
}

/// Creates a CronJob's Job when its schedule comes due (in UTC), and reports the last one.
fn cron_job(txn: &mut Txn<'_>, key: &Key) -> Result<(), ApiError> {
    let Some(cj) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    if cj["spec"]["suspend"] == true {
        return Ok(());
    }
    let Some(schedule) = cj["spec"]["schedule"].as_str().and_then(Schedule::parse) else {
        return Ok(());
    };
    let parse = |s: &str| s.parse::<jiff::Timestamp>().ok();
    let since = cj["status"]["lastScheduleTime"]
        .as_str()
        .and_then(parse)
        .or_else(|| cj["metadata"]["creationTimestamp"].as_str().and_then(parse));
    let (Some(since), now) = (since, jiff::Timestamp::now()) else {
        return Ok(());
    };
    let Some(due) = schedule.next_after(since) else {
        return Ok(());
    };
    if due > now {
        return Ok(());
    }
    let minute = due.as_second() / 60;
    let name = format!("{}-{minute}", key.name);
    let template = &cj["spec"]["jobTemplate"];
    let mut job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": template["metadata"]["labels"], "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": due.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}, "ownerReferences": [owner_ref(&cj)]},
        "spec": template["spec"],
    });
    if job["metadata"]["labels"].is_null() {
        job["metadata"]["labels"] = json!({});
    }
    create(txn, JOBS, &key.namespace, job)?;
    let mut next = cj.clone();
    next["status"]["lastScheduleTime"] = json!(due.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    save(txn, key, &cj, next)
}

/// A five-field cron schedule (minute hour day-of-month month day-of-week) or a macro.
struct Schedule {
    fields: [Vec<bool>; 5],
}

impl Schedule {
    fn parse(s: &str) -> Option<Schedule> {
        let s = match s.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let parts: Vec<&str> = s.split_whitespace().collect();
        if parts.len() != 5 {
            return None;
        }
        let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];
        let mut fields: [Vec<bool>; 5] = Default::default();
        for (i, part) in parts.iter().enumerate() {
            let (lo, hi) = ranges[i];
            let mut set = vec![false; hi + 1];
            for item in part.split(',') {
                let (range, step) = match item.split_once('/') {
                    Some((r, st)) => (r, st.parse::<usize>().ok().filter(|s| *s > 0)?),
                    None => (item, 1),
                };
                let (a, b) = match range {
                    "*" | "?" => (lo, hi),
                    r => match r.split_once('-') {
                        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                        None => {
                            let v: usize = r.parse().ok()?;
                            (v, if item.contains('/') { hi } else { v })
                        }
                    },
                };
                if a < lo || b > hi || a > b {
                    return None;
                }
                for v in (a..=b).step_by(step) {
                    set[v] = true;
                }
            }
            fields[i] = set;
        }
        Some(Schedule { fields })
    }

    /// The first minute strictly after `t` that matches (searched up to a year ahead).
    fn next_after(&self, t: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let start = (t.as_second() / 60 + 1) * 60;
        for m in 0..(366 * 24 * 60) {
            let ts = jiff::Timestamp::from_second(start + m * 60).ok()?;
            let dt = ts.to_zoned(jiff::tz::TimeZone::UTC);
            let dom_any = self.fields[2].iter().skip(1).all(|b| *b);
            let dow_any = self.fields[4].iter().all(|b| *b);
            let dom = self.fields[2][dt.day() as usize];
            let dow = self.fields[4][dt.weekday().to_sunday_zero_offset() as usize];
            let day = if dom_any || dow_any {
                dom && dow
            } else {
                dom || dow
            };
            if self.fields[0][dt.minute() as usize]
                && self.fields[1][dt.hour() as usize]
                && self.fields[3][dt.month() as usize]
                && day
            {
                return Some(ts);
            }
        }
        None
    }
}

fn job(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(j) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    if j["spec"]["suspend"] == true {
        return Ok(());
    }
    let now = meta::now();
    let completions = j["spec"]["completions"].as_i64().unwrap_or(1);
    let start = j["status"]["startTime"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(now.clone());
    let cond = |t: &str, reason: &str, message: &str| json!({"type": t, "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message});
    let status = match how {
        Behaviour::NotYet => json!({"startTime": start, "active": 1, "ready": 0}),
        Behaviour::Ready => json!({
            "startTime": start, "completionTime": now, "succeeded": completions, "ready": 0,
            "conditions": [cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                           cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods")],
        }),
        Behaviour::Fail => json!({
            "startTime": start, "failed": j["spec"]["backoffLimit"].as_i64().unwrap_or(6) + 1, "ready": 0,
            "conditions": [cond("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                           cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")],
        }),
    };
    // A finished Job stays finished.
    if j["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    }) {
        return Ok(());
    }
    let mut next = j.clone();
    next["status"] = status;
    save(txn, key, &j, next)
}

fn pod(txn: &mut Txn<'_>, key: &Key, how: Behaviour) -> Result<(), ApiError> {
    let Some(p) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    let phase = p["status"]["phase"].as_str().unwrap_or_default();
    if matches!(phase, "Succeeded" | "Failed")
        || (phase == "Running" && matches!(how, Behaviour::Ready))
    {
        return Ok(());
    }
    let mut next = p.clone();
    next["status"] = pod_status(&p, how);
    if phase == next["status"]["phase"] {
        return Ok(());
    }
    save(txn, key, &p, next)
}

fn quantity_bytes(q: &str) -> f64 {
    let units = [
        ("Ki", 1024f64),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().unwrap_or(0.0) * factor;
        }
    }
    q.parse().unwrap_or(0.0)
}

/// Binds a claim to a matching available volume, or provisions one.
fn pvc(txn: &mut Txn<'_>, key: &Key) -> Result<(), ApiError> {
    let Some(c) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    if c["status"]["phase"] == "Bound" {
        return Ok(());
    }
    let request = c["spec"]["resources"]["requests"]["storage"]
        .as_str()
        .unwrap_or("1Gi")
        .to_string();
    let class = c["spec"]["storageClassName"]
        .as_str()
        .unwrap_or("standard")
        .to_string();
    let modes = c["spec"]["accessModes"].clone();
    let claim_ref = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": key.namespace, "name": key.name, "uid": c["metadata"]["uid"]});
    // A matching volume that waits for a claim…
    let found = txn
        .list(PVS, None)
        .into_iter()
        .map(|(k, o)| (k, o.value()))
        .find(|(_, pv)| {
            pv["status"]["phase"] != "Bound"
                && pv["spec"].get("claimRef").is_none_or(|r| {
                    r["name"] == key.name.as_str() && r["namespace"] == key.namespace.as_str()
                })
                && pv["spec"]["storageClassName"]
                    .as_str()
                    .unwrap_or("standard")
                    == class
                && quantity_bytes(pv["spec"]["capacity"]["storage"].as_str().unwrap_or("0"))
                    >= quantity_bytes(&request)
        });
    let (volume, capacity) = match found {
        Some((k, pv)) => {
            let mut next = pv.clone();
            next["spec"]["claimRef"] = claim_ref;
            next["status"] = json!({"phase": "Bound"});
            let cap = pv["spec"]["capacity"]["storage"]
                .as_str()
                .unwrap_or(&request)
                .to_string();
            save(txn, &k, &pv, next)?;
            (k.name, cap)
        }
        // …or a provisioned one.
        None => {
            let name = format!("pvc-{}", c["metadata"]["uid"].as_str().unwrap_or_default());
            let pv = json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": "pack.dev/simulated"}},
                "spec": {"capacity": {"storage": request}, "accessModes": modes, "storageClassName": class,
                         "persistentVolumeReclaimPolicy": "Delete", "volumeMode": "Filesystem",
                         "claimRef": claim_ref, "hostPath": {"path": format!("/var/lib/pack/volumes/{name}")}},
                "status": {"phase": "Bound"},
            });
            create(txn, PVS, "", pv)?;
            (name, request)
        }
    };
    let mut next = c.clone();
    next["spec"]["volumeName"] = json!(volume);
    next["spec"]["storageClassName"] = json!(class);
    next["status"] =
        json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": capacity}});
    save(txn, key, &c, next)
}

fn service(txn: &mut Txn<'_>, key: &Key) -> Result<(), ApiError> {
    let Some(s) = txn.get(key).map(|o| o.value()) else {
        return Ok(());
    };
    if s["spec"]["type"] != "LoadBalancer" || s["status"]["loadBalancer"].get("ingress").is_some() {
        return Ok(());
    }
    let mut next = s.clone();
    let n = txn.next_rv() % 250 + 1;
    next["status"] =
        json!({"loadBalancer": {"ingress": [{"ip": format!("172.18.255.{n}"), "ipMode": "VIP"}]}});
    save(txn, key, &s, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_schedules() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().expect("time");
        let every_5 = Schedule::parse("*/5 * * * *").expect("parse");
        assert_eq!(
            every_5.next_after(at("2026-11-22T06:01:30Z")),
            Some(at("2026-11-22T06:05:00Z"))
        );
        let daily = Schedule::parse("@daily").expect("parse");
        assert_eq!(
            daily.next_after(at("2026-11-22T06:01:30Z")),
            Some(at("2026-11-23T00:00:00Z"))
        );
        let weekdays = Schedule::parse("30 9 * * 1-5").expect("parse");
        // 2026-11-22 is a Sunday: next is Monday 09:30.
        assert_eq!(
            weekdays.next_after(at("2026-11-22T10:00:00Z")),
            Some(at("2026-11-23T09:30:00Z"))
        );
        assert!(Schedule::parse("61 * * * *").is_none());
        assert!(Schedule::parse("* * *").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
    }
}
