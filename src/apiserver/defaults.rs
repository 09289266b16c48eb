//! Defaulting of the fields clients dereference or compare: workload replicas and update
//! strategies, Job limits, Service type/ports, pod-spec policies, Namespace status.

use super::resources::Resource;
use serde_json::{Map, Value as Json, json};

fn obj(v: &mut Json) -> Option<&mut Map<String, Json>> {
    v.as_object_mut()
}

fn set_default(map: &mut Map<String, Json>, key: &str, value: Json) {
    if map.get(key).is_none_or(Json::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn child<'a>(map: &'a mut Map<String, Json>, key: &str) -> Option<&'a mut Map<String, Json>> {
    let v = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if v.is_null() {
        *v = json!({});
    }
    v.as_object_mut()
}

fn container_defaults(c: &mut Json) {
    let Some(c) = obj(c) else { return };
    // Go's empty struct: the real server always writes it.
    set_default(c, "resources", json!({}));
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    if c.get("imagePullPolicy").is_none_or(Json::is_null) {
        let image = c.get("image").and_then(Json::as_str).unwrap_or_default();
        let tag = image.rsplit('/').next().unwrap_or(image);
        let latest = !image.contains('@') && (!tag.contains(':') || tag.ends_with(":latest"));
        c.insert(
            "imagePullPolicy".into(),
            json!(if latest { "Always" } else { "IfNotPresent" }),
        );
    }
    if let Some(ports) = c.get_mut("ports").and_then(Json::as_array_mut) {
        for p in ports.iter_mut().filter_map(obj) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

/// Pod-spec defaults (pods and pod templates).
fn pod_spec(spec: &mut Map<String, Json>, restart: &str) {
    set_default(spec, "restartPolicy", json!(restart));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Json::as_array_mut) {
            cs.iter_mut().for_each(container_defaults);
        }
    }
}

fn template(spec: &mut Map<String, Json>, restart: &str) {
    if let Some(t) = spec.get_mut("template").and_then(obj)
        && let Some(s) = child(t, "spec")
    {
        pod_spec(s, restart);
    }
}

fn rolling(max_unavailable: Json, max_surge: Option<Json>) -> Json {
    let mut r = json!({"maxUnavailable": max_unavailable});
    if let Some(s) = max_surge {
        r["maxSurge"] = s;
    }
    r
}

/// Fills in defaults for a new or replaced object of this resource.
pub fn apply(resource: &Resource, object: &mut Json) {
    if resource.custom.is_some() {
        return;
    }
    let Some(root) = obj(object) else { return };
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("apps", "deployments") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "replicas", json!(1));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            if let Some(strategy) = child(spec, "strategy") {
                set_default(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type") == Some(&json!("RollingUpdate")) {
                    let r = child(strategy, "rollingUpdate");
                    if let Some(r) = r {
                        set_default(r, "maxUnavailable", json!("25%"));
                        set_default(r, "maxSurge", json!("25%"));
                    }
                }
            }
            template(spec, "Always");
        }
        ("apps", "statefulsets") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "replicas", json!(1));
            set_default(spec, "podManagementPolicy", json!("OrderedReady"));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            if let Some(strategy) = child(spec, "updateStrategy") {
                set_default(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type") == Some(&json!("RollingUpdate")) {
                    set_default(strategy, "rollingUpdate", json!({"partition": 0}));
                }
            }
            template(spec, "Always");
        }
        ("apps", "daemonsets") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "revisionHistoryLimit", json!(10));
            if let Some(strategy) = child(spec, "updateStrategy") {
                set_default(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type") == Some(&json!("RollingUpdate")) {
                    set_default(strategy, "rollingUpdate", rolling(json!(1), Some(json!(0))));
                }
            }
            template(spec, "Always");
        }
        ("apps", "replicasets") | ("", "replicationcontrollers") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "replicas", json!(1));
            template(spec, "Always");
        }
        ("batch", "jobs") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            job_spec(spec);
        }
        ("batch", "cronjobs") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "concurrencyPolicy", json!("Allow"));
            set_default(spec, "suspend", json!(false));
            set_default(spec, "successfulJobsHistoryLimit", json!(3));
            set_default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(jt) = child(spec, "jobTemplate")
                && let Some(js) = child(jt, "spec")
            {
                job_spec(js);
            }
        }
        ("", "pods") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            pod_spec(spec, "Always");
            set_default(spec, "enableServiceLinks", json!(true));
        }
        ("", "services") => {
            let Some(spec) = child(root, "spec") else {
                return;
            };
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            if spec.get("type") != Some(&json!("ExternalName")) {
                set_default(spec, "internalTrafficPolicy", json!("Cluster"));
                set_default(spec, "ipFamilies", json!(["IPv4"]));
                set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Json::as_array_mut) {
                for p in ports.iter_mut().filter_map(obj) {
                    set_default(p, "protocol", json!("TCP"));
                    if let Some(port) = p.get("port").cloned() {
                        set_default(p, "targetPort", port);
                    }
                }
            }
        }
        ("", "namespaces") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "finalizers", json!(["kubernetes"]));
            }
            if let Some(status) = child(root, "status") {
                set_default(status, "phase", json!("Active"));
            }
            let name = root["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Some(meta) = root.get_mut("metadata").and_then(obj)
                && let Some(labels) = child(meta, "labels")
            {
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
        ("", "secrets") => {
            set_default(root, "type", json!("Opaque"));
            // stringData is write-only: the server folds it into data.
            if let Some(Json::Object(strings)) = root.remove("stringData") {
                let data = root.entry("data").or_insert_with(|| json!({}));
                if data.is_null() {
                    *data = json!({});
                }
                if let Some(data) = data.as_object_mut() {
                    for (k, v) in strings {
                        let text = v.as_str().unwrap_or_default();
                        data.insert(
                            k,
                            json!(crate::funcs::encoding::base64_encode(text.as_bytes())),
                        );
                    }
                }
            }
        }
        ("", "persistentvolumeclaims") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        _ => {}
    }
}

fn job_spec(spec: &mut Map<String, Json>) {
    set_default(spec, "completions", json!(1));
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    template(spec, "Never");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::resources::Registry;
    use crate::k8s::KubeVersion;

    fn res(group: &str, plural: &str) -> Resource {
        let r = Registry::builtin(&KubeVersion::default());
        (**r.get(group, "v1", plural).expect("resource")).clone()
    }

    #[test]
    fn deployment_defaults_clients_rely_on() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}});
        apply(&res("apps", "deployments"), &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
    }

    #[test]
    fn explicit_values_win_and_latest_pulls_always() {
        let mut d = json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}, "template": {"spec": {"containers": [{"image": "nginx"}]}}}});
        apply(&res("apps", "deployments"), &mut d);
        assert_eq!(d["spec"]["replicas"], 0);
        assert!(d["spec"]["strategy"].get("rollingUpdate").is_none());
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Always"
        );
    }

    #[test]
    fn secret_string_data_becomes_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"b": "hi"}});
        apply(&res("", "secrets"), &mut s);
        assert_eq!(
            s,
            json!({"data": {"a": "eA==", "b": "aGk="}, "type": "Opaque"})
        );
    }

    #[test]
    fn services_jobs_and_namespaces() {
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply(&res("", "services"), &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        let mut j = json!({"spec": {"template": {"spec": {}}}});
        apply(&res("batch", "jobs"), &mut j);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "Never");
        let mut n = json!({"metadata": {"name": "x"}});
        apply(&res("", "namespaces"), &mut n);
        assert_eq!(n["status"]["phase"], "Active");
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/metadata.name"], "x");
    }
}
