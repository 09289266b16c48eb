//! The real kubectl (default flags) against the embedded API server: discovery, create,
//! get (selectors, YAML, watch), replace with conflicts, protobuf creates, deletes with
//! finalizers and cascades, CRDs and custom resources, namespace termination.

mod common;

use common::server::{TestServer, fails, ok};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn kubectl() -> Option<PathBuf> {
    common::reference_tool("kubectl")
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated, labels: {app: db}}
data: {k: v}
"#;

#[test]
fn version_and_discovery() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    let out = ok(s.kubectl(&k).arg("version"));
    assert!(out.contains("Server Version: v1.35.0"), "{out}");
    let out = ok(s.kubectl(&k).arg("api-resources"));
    let deploy = out
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    assert!(deploy.contains("deploy") && deploy.contains("apps/v1") && deploy.contains("true"));
    assert!(
        out.lines()
            .any(|l| l.starts_with("namespaces ") && l.contains("false"))
    );
    // Complete OpenAPI component schemas: kubectl explain works.
    let out = ok(s.kubectl(&k).args(["explain", "deployment.spec.strategy"]));
    assert!(
        out.contains("FIELD: strategy <DeploymentStrategy>"),
        "{out}"
    );
    assert!(
        out.contains("rollingUpdate") && out.contains("type"),
        "{out}"
    );
    // 1.35 does not serve the v1 MutatingAdmissionPolicy (GA in 1.36).
    assert!(!out.contains("MutatingAdmissionPolicy "), "{out}");
}

#[test]
fn create_get_select_and_defaults() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    let file = write(s.dir.path(), "app.yaml", APP);
    let out = ok(s.kubectl(&k).args(["create", "-f"]).arg(&file));
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let out = ok(s
        .kubectl(&k)
        .args(["get", "deploy,svc,cm", "-l", "app=web", "-o", "name"]));
    assert_eq!(out.trim(), "deployment.apps/web\nservice/web");
    let out = ok(s
        .kubectl(&k)
        .args(["get", "cm", "-l", "app notin (web)", "-o", "name"]));
    assert!(out.contains("configmap/unrelated"), "{out}");
    let yaml = ok(s.kubectl(&k).args(["get", "deploy", "web", "-o", "yaml"]));
    for line in [
        "replicas: 1",
        "progressDeadlineSeconds: 600",
        "imagePullPolicy: IfNotPresent",
        "protocol: TCP",
        "generation: 1",
    ] {
        assert!(yaml.contains(line), "missing {line}:\n{yaml}");
    }
    let ip = ok(s
        .kubectl(&k)
        .args(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]));
    assert!(ip.starts_with("10.96."), "{ip}");
    // Creating it again is AlreadyExists.
    let out = fails(s.kubectl(&k).args(["create", "-f"]).arg(&file));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn protobuf_creates_from_kubectl() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    ok(s.kubectl(&k).args(["create", "namespace", "team"]));
    ok(s.kubectl(&k).args([
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        "team",
        "--from-literal=password=s3cret",
    ]));
    ok(s.kubectl(&k).args([
        "create",
        "configmap",
        "settings",
        "-n",
        "team",
        "--from-literal=mode=fast",
    ]));
    let pw = ok(s.kubectl(&k).args([
        "get",
        "secret",
        "creds",
        "-n",
        "team",
        "-o",
        "jsonpath={.data.password}",
    ]));
    assert_eq!(pw, "czNjcmV0"); // base64("s3cret")
    let mode = ok(s.kubectl(&k).args([
        "get",
        "cm",
        "settings",
        "-n",
        "team",
        "-o",
        "jsonpath={.data.mode}",
    ]));
    assert_eq!(mode, "fast");
    let label = ok(s.kubectl(&k).args([
        "get",
        "ns",
        "team",
        "-o",
        "jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name} {.status.phase}",
    ]));
    assert_eq!(label, "team Active");
    // A namespace that does not exist is a clear 404.
    let out = fails(
        s.kubectl(&k)
            .args(["create", "configmap", "x", "-n", "nowhere"]),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("namespaces \"nowhere\" not found"));
}

#[test]
fn watch_sees_changes() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    ok(s.kubectl(&k)
        .args(["create", "configmap", "watched", "--from-literal=a=1"]));
    let mut child = s
        .kubectl(&k)
        .args([
            "get",
            "cm",
            "watched",
            "-w",
            "-o",
            "jsonpath={.data.a}{\"\\n\"}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl watch");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).as_deref(), Ok("1"));
    ok(s.kubectl(&k).args([
        "patch",
        "cm",
        "watched",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    let seen = rx.recv_timeout(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen.as_deref(), Ok("2"));
}

#[test]
fn replace_detects_conflicts() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    ok(s.kubectl(&k)
        .args(["create", "configmap", "c", "--from-literal=a=1"]));
    let yaml = ok(s.kubectl(&k).args(["get", "cm", "c", "-o", "yaml"]));
    let edited = write(
        s.dir.path(),
        "c.yaml",
        &yaml.replace("a: \"1\"", "a: \"2\""),
    );
    ok(s.kubectl(&k).args(["replace", "-f"]).arg(&edited));
    // The same file again carries a stale resourceVersion.
    let out = fails(s.kubectl(&k).args(["replace", "-f"]).arg(&edited));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the object has been modified"), "{err}");
    let a = ok(s
        .kubectl(&k)
        .args(["get", "cm", "c", "-o", "jsonpath={.data.a}"]));
    assert_eq!(a, "2");
}

#[test]
fn deletes_finalizers_and_cascades() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    let file = write(s.dir.path(), "app.yaml", APP);
    ok(s.kubectl(&k).args(["create", "-f"]).arg(&file));
    let uid = ok(s
        .kubectl(&k)
        .args(["get", "deploy", "web", "-o", "jsonpath={.metadata.uid}"]));
    let owned = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: Deployment\n    name: web\n    uid: {uid}\n"
    );
    let held = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n";
    ok(s.kubectl(&k)
        .args(["create", "-f"])
        .arg(write(s.dir.path(), "owned.yaml", &owned)));
    ok(s.kubectl(&k)
        .args(["create", "-f"])
        .arg(write(s.dir.path(), "held.yaml", held)));
    // The owner goes, and the garbage collector takes its dependent.
    ok(s.kubectl(&k).args(["delete", "deploy", "web"]));
    fails(s.kubectl(&k).args(["get", "cm", "owned"]));
    // A finalizer holds an object until it is removed.
    ok(s.kubectl(&k).args(["delete", "cm", "held", "--wait=false"]));
    let ts = ok(s.kubectl(&k).args([
        "get",
        "cm",
        "held",
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
    ]));
    assert!(!ts.is_empty());
    ok(s.kubectl(&k).args([
        "patch",
        "cm",
        "held",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]));
    fails(s.kubectl(&k).args(["get", "cm", "held"]));
}

#[test]
fn namespace_deletion_removes_its_contents() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    ok(s.kubectl(&k).args(["create", "namespace", "gone"]));
    ok(s.kubectl(&k)
        .args(["create", "configmap", "x", "-n", "gone"]));
    let started = Instant::now();
    ok(s.kubectl(&k).args(["delete", "namespace", "gone"]));
    assert!(started.elapsed() < Duration::from_secs(20));
    fails(s.kubectl(&k).args(["get", "namespace", "gone"]));
    let out = ok(s.kubectl(&k).args(["get", "cm", "-A", "-o", "name"]));
    assert!(!out.contains("configmap/x"), "{out}");
}

#[test]
fn crd_then_custom_resources() {
    let Some(k) = kubectl() else { return };
    let s = TestServer::start(None);
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
    subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
"#;
    ok(s.kubectl(&k)
        .args(["create", "-f"])
        .arg(write(s.dir.path(), "crd.yaml", crd)));
    ok(s.kubectl(&k).args([
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=10s",
    ]));
    let cr =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {replicas: 1}\n";
    ok(s.kubectl(&k)
        .args(["create", "-f"])
        .arg(write(s.dir.path(), "cr.yaml", cr)));
    let out = ok(s.kubectl(&k).args(["get", "wd", "-o", "name"]));
    assert_eq!(out.trim(), "widget.example.com/w1");
    // The CRD's schema is published: kubectl explain reads it.
    let out = ok(s.kubectl(&k).args(["explain", "widgets"]));
    assert!(
        out.contains("KIND:       Widget") && out.contains("metadata"),
        "{out}"
    );
    ok(s.kubectl(&k)
        .args(["scale", "widget", "w1", "--replicas=3"]));
    let n = ok(s
        .kubectl(&k)
        .args(["get", "wd", "w1", "-o", "jsonpath={.spec.replicas}"]));
    assert_eq!(n, "3");
    let all = ok(s.kubectl(&k).args(["get", "all", "-o", "name"]));
    assert!(all.contains("widget.example.com/w1"), "{all}");
    // Deleting the CRD removes its objects and its API.
    ok(s.kubectl(&k).args(["delete", "crd", "widgets.example.com"]));
    // (kubectl's cached discovery may still name the type; the server no longer serves it.)
    let out = fails(s.kubectl(&k).args(["get", "widgets"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the server doesn't have a resource type")
            || err.contains("the server could not find the requested resource"),
        "{err}"
    );
}
