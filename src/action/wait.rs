//! Waiting for a release's resources to be ready, by the rules helm's watcher (kstatus)
//! applies per kind, with progress reported as each resource changes state.

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
                    state(&value, jobs_complete)
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
        tokio::time::sleep(Duration::from_millis(200)).await;
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
