//! Waiting for a release's resources to be ready, by the rules helm's watcher (kstatus)
//! applies per kind, or by Helm 3's polling waiter (`--wait=legacy`), with progress
//! reported as each resource changes state.

use crate::cluster::Cluster;
use serde_json::Value as Json;
use std::time::Duration;

/// Where a resource stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Ready.
    Current,
    /// Not yet, and why.
    InProgress(String),
    /// Will not become ready, and why.
    Failed(String),
}

fn int(v: &Json) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn condition<'a>(status: &'a Json, kind: &str) -> Option<&'a Json> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn generation_observed(obj: &Json) -> bool {
    let generation = int(&obj["metadata"]["generation"]);
    obj["status"]
        .get("observedGeneration")
        .is_some_and(|o| int(o) >= generation)
}

/// The readiness of a live object (kstatus rules; `jobs_complete` makes Jobs wait for
/// completion rather than merely start, like `--wait-for-jobs`).
pub fn state(obj: &Json, jobs_complete: bool) -> State {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let status = &obj["status"];
    let progress = |s: String| State::InProgress(s);
    match kind {
        "Deployment" => {
            // A status about an older generation says nothing about this one.
            if !generation_observed(obj) {
                return progress("new generation not yet observed".into());
            }
            if let Some(p) = condition(status, "Progressing")
                && p["reason"] == "ProgressDeadlineExceeded"
            {
                return State::Failed(format!(
                    "progress deadline exceeded: {}",
                    p["message"].as_str().unwrap_or_default()
                ));
            }
            let want = obj["spec"]["replicas"].as_i64().unwrap_or(1);
            let (updated, available) = (
                int(&status["updatedReplicas"]),
                int(&status["availableReplicas"]),
            );
            if updated < want {
                return progress(format!("{updated}/{want} replicas updated"));
            }
            if available < want || int(&status["replicas"]) > want {
                return progress(format!("{available}/{want} replicas available"));
            }
            State::Current
        }
        "StatefulSet" => {
            let want = obj["spec"]["replicas"].as_i64().unwrap_or(1);
            if !generation_observed(obj) {
                return progress("new generation not yet observed".into());
            }
            let ready = int(&status["readyReplicas"]);
            if ready < want {
                return progress(format!("{ready}/{want} replicas ready"));
            }
            if status["currentRevision"] != status["updateRevision"] {
                return progress("rolling out the update".into());
            }
            State::Current
        }
        "DaemonSet" => {
            if !generation_observed(obj) || status.get("desiredNumberScheduled").is_none() {
                return progress("not yet scheduled".into());
            }
            let desired = int(&status["desiredNumberScheduled"]);
            let available = int(&status["numberAvailable"]);
            if available < desired || int(&status["updatedNumberScheduled"]) < desired {
                return progress(format!("{available}/{desired} pods available"));
            }
            State::Current
        }
        "ReplicaSet" | "ReplicationController" => {
            let want = obj["spec"]["replicas"].as_i64().unwrap_or(1);
            let ready = int(&status["readyReplicas"]);
            if ready < want {
                return progress(format!("{ready}/{want} replicas ready"));
            }
            State::Current
        }
        "Job" => {
            if let Some(f) = condition(status, "Failed").filter(|c| c["status"] == "True") {
                return State::Failed(format!(
                    "job failed: {}",
                    f["message"].as_str().unwrap_or("backoff limit exceeded")
                ));
            }
            if condition(status, "Complete").is_some_and(|c| c["status"] == "True") {
                return State::Current;
            }
            if !jobs_complete && status.get("startTime").is_some() {
                return State::Current;
            }
            progress("not complete".into())
        }
        "Pod" => match status["phase"].as_str() {
            Some("Succeeded") => State::Current,
            Some("Failed") => State::Failed("pod failed".into()),
            Some("Running")
                if condition(status, "Ready").is_some_and(|c| c["status"] == "True") =>
            {
                State::Current
            }
            other => progress(format!("phase {}", other.unwrap_or("Pending"))),
        },
        "PersistentVolumeClaim" => {
            if status["phase"] == "Bound" {
                State::Current
            } else {
                progress("not bound".into())
            }
        }
        "Service" => {
            if obj["spec"]["type"] == "LoadBalancer"
                && status["loadBalancer"]["ingress"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
            {
                progress("no load balancer address yet".into())
            } else {
                State::Current
            }
        }
        "CustomResourceDefinition" => {
            if condition(status, "NamesAccepted").is_some_and(|c| c["status"] == "False") {
                return State::Failed("names not accepted".into());
            }
            if condition(status, "Established").is_some_and(|c| c["status"] == "True") {
                State::Current
            } else {
                progress("not established".into())
            }
        }
        _ => State::Current,
    }
}

/// Which readiness rules a wait applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// Helm 4's watcher (kstatus): every replica updated and available.
    #[default]
    Watcher,
    /// Helm 3's waiter, polled every 2 s: enough replicas ready allowing for
    /// `maxUnavailable`, Services with an IP, PVCs bound.
    Legacy,
}

/// `maxUnavailable` of a rolling update (an integer or a percentage of `total`, rounded
/// down; Kubernetes' default is 25%).
fn max_unavailable(spec: &Json, total: i64) -> i64 {
    let value = &spec["strategy"]["rollingUpdate"]["maxUnavailable"];
    let value = if value.is_null() {
        &spec["updateStrategy"]["rollingUpdate"]["maxUnavailable"]
    } else {
        value
    };
    match value {
        Json::Number(n) => n.as_i64().unwrap_or(0),
        Json::String(p) if p.ends_with('%') => p
            .trim_end_matches('%')
            .parse::<i64>()
            .map_or(0, |pct| total * pct / 100),
        Json::Null => {
            if spec["strategy"]["type"] == "Recreate" {
                0
            } else {
                total / 4
            }
        }
        _ => 0,
    }
}

/// The readiness of a live object by Helm 3's rules (`--wait=legacy`).
pub fn legacy_state(obj: &Json, jobs_complete: bool) -> State {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let spec = &obj["spec"];
    let status = &obj["status"];
    let progress = |s: String| State::InProgress(s);
    match kind {
        "Deployment" => {
            if spec["paused"] == true {
                return State::Current;
            }
            if !generation_observed(obj) {
                return progress("new generation not yet observed".into());
            }
            let want = spec["replicas"].as_i64().unwrap_or(1);
            let expected = want - max_unavailable(spec, want);
            let ready = int(&status["readyReplicas"]);
            if int(&status["updatedReplicas"]) < want.min(expected.max(0)) || ready < expected {
                return progress(format!("{ready}/{expected} replicas ready (of {want})"));
            }
            State::Current
        }
        "DaemonSet" => {
            if spec["updateStrategy"]["type"] == "OnDelete" {
                return State::Current;
            }
            let desired = int(&status["desiredNumberScheduled"]);
            if int(&status["updatedNumberScheduled"]) != desired {
                return progress("pods not yet updated".into());
            }
            let expected = desired - max_unavailable(spec, desired);
            let ready = int(&status["numberReady"]);
            if ready < expected {
                return progress(format!("{ready}/{expected} pods ready"));
            }
            State::Current
        }
        "StatefulSet" => {
            if spec["updateStrategy"]["type"] == "OnDelete" {
                return State::Current;
            }
            if !generation_observed(obj) {
                return progress("new generation not yet observed".into());
            }
            let want = spec["replicas"].as_i64().unwrap_or(1);
            let partition = int(&spec["updateStrategy"]["rollingUpdate"]["partition"]);
            if int(&status["updatedReplicas"]) < want - partition {
                return progress("replicas not yet updated".into());
            }
            let ready = int(&status["readyReplicas"]);
            if ready != want {
                return progress(format!("{ready}/{want} replicas ready"));
            }
            if partition == 0 && status["currentRevision"] != status["updateRevision"] {
                return progress("rolling out the update".into());
            }
            State::Current
        }
        "Service" => {
            if spec["type"] == "ExternalName" || spec["clusterIP"] == "None" {
                return State::Current;
            }
            if spec["clusterIP"].as_str().is_none_or(str::is_empty) {
                return progress("no cluster IP yet".into());
            }
            if spec["type"] == "LoadBalancer"
                && status["loadBalancer"]["ingress"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
            {
                return progress("no load balancer address yet".into());
            }
            State::Current
        }
        "Job" => {
            if !jobs_complete {
                return State::Current;
            }
            let backoff = spec["backoffLimit"].as_i64().unwrap_or(6);
            if int(&status["failed"]) > backoff {
                return State::Failed("job failed: backoff limit exceeded".into());
            }
            let completions = spec["completions"].as_i64().unwrap_or(1);
            let succeeded = int(&status["succeeded"]);
            if succeeded < completions {
                return progress(format!("{succeeded}/{completions} completions"));
            }
            State::Current
        }
        "Pod" => {
            if condition(status, "Ready").is_some_and(|c| c["status"] == "True")
                || status["phase"] == "Succeeded"
            {
                State::Current
            } else {
                progress(format!(
                    "phase {}",
                    status["phase"].as_str().unwrap_or("Pending")
                ))
            }
        }
        // PersistentVolumeClaims, CRDs, ReplicaSets: the same as the watcher's.
        _ => state(obj, jobs_complete),
    }
}

/// Waits until every object is ready; `report` hears each change of state. Fails at the
/// first object that fails, or when `timeout` passes (naming what is not ready).
pub async fn wait_ready(
    cluster: &Cluster,
    objects: &[Json],
    namespace: &str,
    timeout: Duration,
    jobs_complete: bool,
    report: &mut (dyn FnMut(&str, &State) + Send),
) -> Result<(), String> {
    wait_with(
        cluster,
        objects,
        namespace,
        timeout,
        jobs_complete,
        Rules::Watcher,
        report,
    )
    .await
}

/// [`wait_ready`] with a choice of rules (and Helm 3's 2-second polling for the legacy ones).
pub async fn wait_with(
    cluster: &Cluster,
    objects: &[Json],
    namespace: &str,
    timeout: Duration,
    jobs_complete: bool,
    rules: Rules,
    report: &mut (dyn FnMut(&str, &State) + Send),
) -> Result<(), String> {
    let judge = match rules {
        Rules::Watcher => state,
        Rules::Legacy => legacy_state,
    };
    let interval = match rules {
        Rules::Watcher => Duration::from_millis(200),
        Rules::Legacy => Duration::from_secs(2),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let name_of = |o: &Json| {
        format!(
            "{}/{}",
            o["kind"].as_str().unwrap_or_default(),
            o["metadata"]["name"].as_str().unwrap_or_default()
        )
    };
    let mut last: Vec<Option<State>> = vec![None; objects.len()];
    loop {
        let mut pending = Vec::new();
        for (i, obj) in objects.iter().enumerate() {
            if last[i] == Some(State::Current) {
                continue;
            }
            let now = match cluster.get(obj, namespace).await {
                Ok(Some(live)) => {
                    let mut value = serde_json::to_value(&live).unwrap_or(Json::Null);
                    if value.get("kind").is_none() {
                        value["kind"] = obj["kind"].clone();
                    }
                    judge(&value, jobs_complete)
                }
                Ok(None) => State::InProgress("not found".into()),
                Err(e) => State::InProgress(e.to_string()),
            };
            if last[i].as_ref() != Some(&now) {
                report(&name_of(obj), &now);
            }
            if let State::Failed(why) = &now {
                return Err(format!("{} failed: {why}", name_of(obj)));
            }
            if now != State::Current {
                pending.push(name_of(obj));
            }
            last[i] = Some(now);
        }
        if pending.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "timed out after {}s waiting for: {}",
                timeout.as_secs(),
                pending.join(", ")
            ));
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rules() {
        let d = |status: Json| json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": status});
        assert_eq!(
            state(&d(json!({"observedGeneration": 1})), false),
            State::InProgress("new generation not yet observed".into())
        );
        assert_eq!(
            state(
                &d(
                    json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1})
                ),
                false
            ),
            State::InProgress("1/2 replicas available".into())
        );
        assert_eq!(
            state(
                &d(
                    json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2})
                ),
                false
            ),
            State::Current
        );
        let failed = d(
            json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "x"}]}),
        );
        assert!(matches!(state(&failed, false), State::Failed(_)));
    }

    #[test]
    fn legacy_rules_allow_max_unavailable() {
        // 4 replicas, default 25% unavailable: 3 ready is enough for Helm 3, not for kstatus.
        let d = json!({"kind": "Deployment", "metadata": {"generation": 2},
            "spec": {"replicas": 4},
            "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 4,
                       "readyReplicas": 3, "availableReplicas": 3}});
        assert_eq!(legacy_state(&d, false), State::Current);
        assert!(matches!(state(&d, false), State::InProgress(_)));
        let strict = json!({"kind": "Deployment", "metadata": {"generation": 1},
            "spec": {"replicas": 2, "strategy": {"rollingUpdate": {"maxUnavailable": 0}}},
            "status": {"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 1}});
        assert!(matches!(legacy_state(&strict, false), State::InProgress(_)));
        // A Service needs its cluster IP; a job counts only with --wait-for-jobs.
        let svc = json!({"kind": "Service", "spec": {"type": "ClusterIP", "clusterIP": ""}});
        assert!(matches!(legacy_state(&svc, false), State::InProgress(_)));
        let job = json!({"kind": "Job", "spec": {"completions": 2, "backoffLimit": 1},
            "status": {"succeeded": 1, "failed": 2}});
        assert_eq!(legacy_state(&job, false), State::Current);
        assert!(matches!(legacy_state(&job, true), State::Failed(_)));
    }

    #[test]
    fn jobs_pods_and_others() {
        let started = json!({"kind": "Job", "status": {"startTime": "t"}});
        assert_eq!(state(&started, false), State::Current);
        assert_eq!(
            state(&started, true),
            State::InProgress("not complete".into())
        );
        let pod = json!({"kind": "Pod", "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(state(&pod, false), State::Current);
        assert_eq!(state(&json!({"kind": "ConfigMap"}), false), State::Current);
        assert!(matches!(
            state(
                &json!({"kind": "Pod", "status": {"phase": "Failed"}}),
                false
            ),
            State::Failed(_)
        ));
    }
}
