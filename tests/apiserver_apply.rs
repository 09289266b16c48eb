//! Patches against the embedded API server with the real clients: kubectl apply
//! (client-side and server-side, conflicts, forced takeover, dropped fields), diff, the
//! three patch types, scale and set image; helm's install/upgrade/rollback/uninstall
//! lifecycle with its default server-side apply.

mod common;

use common::server::{TestServer, fails, ok};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tools() -> Option<(PathBuf, PathBuf)> {
    Some((
        common::reference_tool("kubectl")?,
        common::reference_tool("helm")?,
    ))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn deployment(image: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web{extra}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: {image}
        env: [{{name: MODE, value: fast}}]
        ports: [{{containerPort: 80}}]
"#
    )
}

fn get_json(s: &TestServer, k: &Path, what: &[&str]) -> Json {
    let out = ok(s.kubectl(k).arg("get").args(what).args(["-o", "json"]));
    serde_json::from_str(&out).expect("json")
}

#[test]
fn client_side_apply_merges_by_name_and_keeps_other_containers() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start(None);
    let dir = s.dir.path();
    ok(s.kubectl(&k)
        .args(["apply", "-f"])
        .arg(write(dir, "d1.yaml", &deployment("app:1", ""))));
    // Someone adds a second container outside the applied configuration.
    ok(s.kubectl(&k).args([
        "patch",
        "deploy",
        "web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"side:1"}]}}}}"#,
    ]));
    let out = ok(s.kubectl(&k).args(["apply", "-f"]).arg(write(
        dir,
        "d2.yaml",
        &deployment("app:2", ""),
    )));
    assert!(out.contains("configured"), "{out}");
    let d = get_json(&s, &k, &["deploy", "web"]);
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 2, "sidecar kept: {containers:?}");
    let app = containers.iter().find(|c| c["name"] == "app").expect("app");
    assert_eq!(app["image"], "app:2");
    assert_eq!(app["env"][0]["name"], "MODE");
    assert_eq!(d["metadata"]["generation"], 3);
    // Re-applied as is: the server's answer leaves nothing to change.
    let cm = write(
        dir,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
    );
    ok(s.kubectl(&k).args(["apply", "-f"]).arg(&cm));
    let out = ok(s.kubectl(&k).args(["apply", "-f"]).arg(&cm));
    assert!(out.contains("configmap/c unchanged"), "{out}");
    // diff exits 1 on changes, 0 without (once the simulated rollout has settled).
    ok(s.kubectl(&k)
        .args(["rollout", "status", "deploy/web", "--timeout=20s"]));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let st = s
        .kubectl(&k)
        .args(["diff", "-f"])
        .arg(write(dir, "d3.yaml", &deployment("app:3", "")))
        .output()
        .expect("diff");
    assert_eq!(
        st.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(String::from_utf8_lossy(&st.stdout).contains("+        image: app:3"));
    let st = s
        .kubectl(&k)
        .args(["diff", "-f"])
        .arg(dir.join("d2.yaml"))
        .output()
        .expect("diff");
    assert_eq!(
        st.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&st.stdout)
    );
    // The diff was a dry run.
    let d = get_json(&s, &k, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:2"
    );
}

#[test]
fn server_side_apply_conflicts_force_and_removal() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start(None);
    let dir = s.dir.path();
    ok(s.kubectl(&k)
        .args(["apply", "--server-side", "-f"])
        .arg(write(dir, "a.yaml", &deployment("app:1", ", extra: kept"))));
    // Another manager takes the image with a plain update.
    ok(s.kubectl(&k)
        .args(["set", "image", "deploy/web", "app=app:edited"]));
    let out = fails(
        s.kubectl(&k)
            .args(["apply", "--server-side", "-f"])
            .arg(write(dir, "b.yaml", &deployment("app:2", ", extra: kept"))),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("conflict with \"kubectl-set\""), "{err}");
    assert!(err.contains(".image"), "{err}");
    ok(s.kubectl(&k)
        .args(["apply", "--server-side", "--force-conflicts", "-f"])
        .arg(dir.join("b.yaml")));
    let d = get_json(&s, &k, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:2"
    );
    // A field the manager stops applying is removed.
    ok(s.kubectl(&k)
        .args(["apply", "--server-side", "-f"])
        .arg(write(dir, "c.yaml", &deployment("app:2", ""))));
    let d = get_json(&s, &k, &["deploy", "web", "--show-managed-fields"]);
    assert!(
        d["metadata"]["labels"].get("extra").is_none(),
        "{}",
        d["metadata"]
    );
    let managers: Vec<&str> = d["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");
    // Server-side diff: a dry-run apply; exit 0 when nothing changes, 1 otherwise. (After
    // the rollout settles, so the simulated controller does not change the object between
    // kubectl's read and its dry run.)
    ok(s.kubectl(&k)
        .args(["rollout", "status", "deploy/web", "--timeout=20s"]));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let st = s
        .kubectl(&k)
        .args(["diff", "--server-side", "-f"])
        .arg(dir.join("c.yaml"))
        .output()
        .expect("diff");
    assert_eq!(
        st.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&st.stdout)
    );
    let st = s
        .kubectl(&k)
        .args(["diff", "--server-side", "-f"])
        .arg(write(dir, "d.yaml", &deployment("app:3", "")))
        .output()
        .expect("diff");
    assert_eq!(
        st.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(String::from_utf8_lossy(&st.stdout).contains("+        image: app:3"));
    let d = get_json(&s, &k, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:2"
    );
}

#[test]
fn patch_types_scale_and_set_image() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start(None);
    ok(s.kubectl(&k).args(["create", "-f"]).arg(write(
        s.dir.path(),
        "d.yaml",
        &deployment("app:1", ""),
    )));
    ok(s.kubectl(&k).args([
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"merged":"yes"}}}"#,
    ]));
    ok(s.kubectl(&k).args([
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"app:json"}]"#,
    ]));
    ok(s.kubectl(&k).args([
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"EXTRA","value":"1"}]}]}}}}"#,
    ]));
    ok(s.kubectl(&k).args(["scale", "deploy/web", "--replicas=4"]));
    let d = get_json(&s, &k, &["deploy", "web"]);
    assert_eq!(d["metadata"]["labels"]["merged"], "yes");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "app:json");
    let env: Vec<&str> = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(env, ["MODE", "EXTRA"]);
    assert_eq!(d["spec"]["replicas"], 4);
    // A stale resourceVersion in a patch is a conflict.
    let out = fails(s.kubectl(&k).args([
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"resourceVersion":"1"},"spec":{"replicas":1}}"#,
    ]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the object has been modified"));
}

fn helm(h: &Path, s: &TestServer) -> Command {
    let mut cmd = common::helm(h, s.dir.path());
    cmd.env("KUBECONFIG", &s.kubeconfig);
    cmd
}

const CHART: &str = "../shared/corpus/charts/hello-world";

#[test]
fn helm_lifecycle_with_server_side_apply() {
    let Some((k, h)) = tools() else { return };
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let chart = shared.join("corpus/charts/hello-world");
    let _ = CHART;
    let s = TestServer::start(None);
    ok(helm(&h, &s).args(["install", "demo"]).arg(&chart).args([
        "-n",
        "apps",
        "--create-namespace",
    ]));
    let d = get_json(&s, &k, &["deploy", "-n", "apps", "demo-hello-world"]);
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    assert_eq!(
        d["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "demo"
    );
    let list = ok(helm(&h, &s).args(["list", "-n", "apps", "-o", "json"]));
    let list: Json = serde_json::from_str(&list).expect("json");
    assert_eq!(list[0]["status"], "deployed");
    ok(helm(&h, &s).args(["upgrade", "demo"]).arg(&chart).args([
        "-n",
        "apps",
        "--set",
        "replicaCount=3",
    ]));
    let d = get_json(&s, &k, &["deploy", "-n", "apps", "demo-hello-world"]);
    assert_eq!(d["spec"]["replicas"], 3);
    let status = ok(helm(&h, &s).args(["status", "demo", "-n", "apps"]));
    assert!(status.contains("REVISION: 2"), "{status}");
    ok(helm(&h, &s).args(["rollback", "demo", "1", "-n", "apps"]));
    let d = get_json(&s, &k, &["deploy", "-n", "apps", "demo-hello-world"]);
    assert_eq!(d["spec"]["replicas"], 1, "rolled back");
    let history = ok(helm(&h, &s).args(["history", "demo", "-n", "apps", "-o", "json"]));
    let history: Json = serde_json::from_str(&history).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["superseded", "superseded", "deployed"]);
    // Release records are Helm's Secrets.
    let secrets = ok(s.kubectl(&k).args([
        "get",
        "secrets",
        "-n",
        "apps",
        "-l",
        "owner=helm",
        "-o",
        "name",
    ]));
    assert_eq!(secrets.lines().count(), 3, "{secrets}");
    ok(helm(&h, &s).args(["uninstall", "demo", "-n", "apps"]));
    let left = ok(s
        .kubectl(&k)
        .args(["get", "all,secrets", "-n", "apps", "-o", "name"]));
    assert!(left.trim().is_empty(), "left behind: {left}");
}

#[test]
fn field_validation_strict_warn_ignore() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start(None);
    let bad = write(
        s.dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndata: {a: b}\ndatta: {c: d}\n",
    );
    // kubectl's default is Strict.
    let out = fails(s.kubectl(&k).args(["apply", "-f"]).arg(&bad));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field \"datta\""), "{err}");
    let out = fails(s.kubectl(&k).args(["create", "-f"]).arg(&bad));
    assert!(String::from_utf8_lossy(&out.stderr).contains("strict decoding error"));
    // Warn: created, the field dropped, the warning printed by kubectl.
    let out = s
        .kubectl(&k)
        .args(["create", "--validate=warn", "-f"])
        .arg(&bad)
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown field \"datta\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cm = get_json(&s, &k, &["cm", "typo"]);
    assert!(cm.get("datta").is_none());
    assert_eq!(cm["data"]["a"], "b");
}
