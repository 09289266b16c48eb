//! Releases end to end on the embedded API server: pack's install → upgrade → rollback →
//! uninstall, Helm's value-reuse rules, pruning and the keep policy, ownership refusal and
//! --take-ownership, field-manager conflicts; and interop with the real helm both ways.

mod common;

use common::server::{TestServer, fails, ok};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pack(s: &TestServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pack"));
    cmd.arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .env_remove("HELM_DRIVER")
        .env("PACK_DATA_HOME", s.dir.path().join("pack-data"));
    cmd
}

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/hello-world")
}

fn kubectl_json(s: &TestServer, k: &Path, what: &[&str]) -> Json {
    let out = ok(s.kubectl(k).arg("get").args(what).args(["-o", "json"]));
    serde_json::from_str(&out).expect("json")
}

fn kubectl_missing(s: &TestServer, k: &Path, what: &[&str]) -> bool {
    !s.kubectl(k)
        .arg("get")
        .args(what)
        .output()
        .expect("kubectl")
        .status
        .success()
}

#[test]
fn install_upgrade_rollback_uninstall() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let chart = chart_dir();
    let out = ok(pack(&s).args(["install", "demo"]).arg(&chart));
    assert!(
        out.contains("STATUS: deployed") && out.contains("NOTES:"),
        "{out}"
    );
    let d = kubectl_json(&s, &k, &["deploy", "demo-hello-world"]);
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    assert_eq!(
        d["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "demo"
    );
    // The record is Helm's Secret.
    let secret = kubectl_json(&s, &k, &["secret", "sh.helm.release.v1.demo.v1"]);
    assert_eq!(secret["type"], "helm.sh/release.v1");
    assert_eq!(secret["metadata"]["labels"]["status"], "deployed");
    // A name in use is refused.
    let out = fails(pack(&s).args(["install", "demo"]).arg(&chart));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot re-use a name that is still in use")
    );
    ok(pack(&s)
        .args(["upgrade", "demo"])
        .arg(&chart)
        .args(["--set", "replicaCount=3"]));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "demo-hello-world"])["spec"]["replicas"],
        3
    );
    // No value flags: the last values are reused (Helm's default).
    ok(pack(&s).args(["upgrade", "demo"]).arg(&chart));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "demo-hello-world"])["spec"]["replicas"],
        3
    );
    // --reset-values: back to the chart's defaults.
    ok(pack(&s)
        .args(["upgrade", "demo"])
        .arg(&chart)
        .arg("--reset-values"));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "demo-hello-world"])["spec"]["replicas"],
        1
    );
    ok(pack(&s).args(["rollback", "demo", "2"]));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "demo-hello-world"])["spec"]["replicas"],
        3
    );
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "demo", "-o", "json"]))).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "superseded",
            "superseded",
            "superseded",
            "superseded",
            "deployed"
        ]
    );
    assert_eq!(history[4]["description"], "Rollback to 2");
    let values = ok(pack(&s).args(["get", "values", "demo"]));
    assert_eq!(values.trim(), "replicaCount: 3");
    let manifest = ok(pack(&s).args(["get", "manifest", "demo"]));
    assert!(
        manifest.contains("# Source: hello-world/templates/deployment.yaml"),
        "{manifest}"
    );
    ok(pack(&s).args(["uninstall", "demo"]));
    assert!(kubectl_missing(&s, &k, &["deploy", "demo-hello-world"]));
    let list = ok(pack(&s).args(["list", "-o", "json"]));
    assert_eq!(list.trim(), "[]");
    let out = fails(pack(&s).args(["uninstall", "demo"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    ok(pack(&s).args(["uninstall", "demo", "--ignore-not-found"]));
}

fn small_chart(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let c = dir.join(name);
    std::fs::create_dir_all(c.join("templates")).expect("mkdir");
    std::fs::write(
        c.join("Chart.yaml"),
        format!("apiVersion: pack/v1\nname: {name}\nversion: 0.1.0\n"),
    )
    .expect("write");
    std::fs::write(c.join("values.yaml"), "").expect("write");
    std::fs::write(
        c.join("templates/objects.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ Release.Name }}}}-main\ndata:\n  a: \"1\"\n{extra}"),
    )
    .expect("write");
    c
}

#[test]
fn pruning_keep_policy_ownership_and_conflicts() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let dir = s.dir.path();
    let v1 = small_chart(
        dir,
        "v1",
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dropped\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    helm.sh/resource-policy: keep\n",
    );
    ok(pack(&s).args(["install", "r"]).arg(&v1));
    let v2 = small_chart(dir, "v2", "");
    ok(pack(&s).args(["upgrade", "r"]).arg(&v2));
    assert!(
        kubectl_missing(&s, &k, &["cm", "dropped"]),
        "objects dropped from the chart are deleted"
    );
    assert!(
        !kubectl_missing(&s, &k, &["cm", "kept"]),
        "resource-policy: keep survives"
    );
    // An object that exists without the release's marks is refused, then adopted.
    ok(s.kubectl(&k)
        .args(["create", "configmap", "other-main", "--from-literal=a=1"]));
    let out = fails(pack(&s).args(["install", "other"]).arg(&v2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid ownership metadata") && err.contains("--take-ownership"),
        "{err}"
    );
    ok(pack(&s)
        .args(["install", "other"])
        .arg(&v2)
        .arg("--take-ownership"));
    let cm = kubectl_json(&s, &k, &["cm", "other-main"]);
    assert_eq!(
        cm["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "other"
    );
    // Someone edits a field the release applies: the next upgrade reports the conflict…
    ok(s.kubectl(&k).args([
        "patch",
        "cm",
        "r-main",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"edited"}}"#,
    ]));
    let v3 = small_chart(dir, "v3", "");
    std::fs::write(v3.join("templates/objects.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-main\ndata:\n  a: \"2\"\n").expect("write");
    let out = fails(pack(&s).args(["upgrade", "r"]).arg(&v3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("conflict") && err.contains("kubectl-patch") && err.contains(".data.a"),
        "{err}"
    );
    // …the failure is recorded and the previous revision stays deployed…
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "r", "-o", "json"]))).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["superseded", "deployed", "failed"]);
    // …and --force-conflicts takes the field over.
    ok(pack(&s)
        .args(["upgrade", "r"])
        .arg(&v3)
        .arg("--force-conflicts"));
    assert_eq!(kubectl_json(&s, &k, &["cm", "r-main"])["data"]["a"], "2");
    // --history-max prunes old revisions but keeps the deployed one.
    for _ in 0..4 {
        ok(pack(&s)
            .args(["upgrade", "r"])
            .arg(&v3)
            .args(["--history-max", "3"]));
    }
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "r", "-o", "json"]))).expect("json");
    assert_eq!(history.as_array().map(Vec::len), Some(3), "{history}");
}

#[test]
fn helm_and_pack_share_releases() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let Some(h) = common::reference_tool("helm") else {
        return;
    };
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let s = TestServer::start(None);
    let helm = || {
        let mut cmd = common::helm(&h, s.dir.path());
        cmd.env("KUBECONFIG", &s.kubeconfig);
        cmd
    };
    // pack installs; helm reads, upgrades with the stored chart's manifest via rollback.
    ok(pack(&s)
        .args(["install", "native"])
        .arg(chart_dir())
        .args(["--set", "replicaCount=2"]));
    let list: Json = serde_json::from_str(&ok(helm().args(["list", "-o", "json"]))).expect("json");
    assert_eq!(list[0]["name"], "native");
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["chart"], "hello-world-0.1.0");
    let manifest = ok(helm().args(["get", "manifest", "native"]));
    assert_eq!(manifest, ok(pack(&s).args(["get", "manifest", "native"])));
    let values = ok(helm().args(["get", "values", "native", "-o", "json"]));
    assert_eq!(values.trim(), r#"{"replicaCount":2}"#);
    ok(pack(&s)
        .args(["upgrade", "native"])
        .arg(chart_dir())
        .args(["--set", "replicaCount=4"]));
    ok(helm().args(["rollback", "native", "1"]));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "native-hello-world"])["spec"]["replicas"],
        2
    );
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "native", "-o", "json"])))
            .expect("json");
    assert_eq!(history[2]["status"], "deployed");
    assert_eq!(history[2]["description"], "Rollback to 1");
    // helm installs a Helm chart; pack lists, reads, rolls back and uninstalls it.
    let helm_chart = shared.join("corpus/charts/hello-world");
    ok(helm().args(["install", "classic"]).arg(&helm_chart));
    ok(helm()
        .args(["upgrade", "classic"])
        .arg(&helm_chart)
        .args(["--set", "replicaCount=3"]));
    let list: Json =
        serde_json::from_str(&ok(pack(&s).args(["list", "-o", "json"]))).expect("json");
    let classic = list
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "classic"))
        .expect("classic listed");
    assert_eq!(classic["revision"], "2");
    let status = ok(pack(&s).args(["status", "classic"]));
    assert!(status.contains("REVISION: 2"), "{status}");
    ok(pack(&s).args(["rollback", "classic", "1"]));
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "classic-hello-world"])["spec"]["replicas"],
        1
    );
    let history: Json =
        serde_json::from_str(&ok(helm().args(["history", "classic", "-o", "json"]))).expect("json");
    assert_eq!(history[2]["status"], "deployed");
    ok(pack(&s).args(["uninstall", "classic", "native"]));
    let left = ok(s
        .kubectl(&k)
        .args(["get", "deploy,svc,secrets", "-o", "name"]));
    assert!(left.trim().is_empty(), "{left}");
}

#[test]
fn embedded_cluster_without_kubeconfig() {
    let home = tempfile::tempdir().expect("tempdir");
    let pack = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pack"));
        cmd.env("HOME", home.path())
            .env_remove("KUBECONFIG")
            .env_remove("HELM_DRIVER")
            .env("PACK_DATA_HOME", home.path().join("data"));
        cmd
    };
    let out = pack()
        .args(["install", "demo"])
        .arg(chart_dir())
        .output()
        .expect("pack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("using the embedded cluster"));
    // State persists across invocations.
    let list = ok(pack().args(["list", "-o", "json"]));
    assert!(list.contains("\"demo\""), "{list}");
    ok(pack()
        .args(["upgrade", "demo"])
        .arg(chart_dir())
        .args(["--set", "replicaCount=2"]));
    ok(pack().args(["rollback", "demo"]));
    ok(pack().args(["uninstall", "demo"]));
    assert_eq!(ok(pack().args(["list", "-o", "json"])).trim(), "[]");
}

#[test]
fn dry_runs_change_nothing_and_helm3_style_releases_move_to_server_side_apply() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let Some(h) = common::reference_tool("helm") else {
        return;
    };
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let s = TestServer::start(None);
    // --dry-run=client needs no cluster at all; --dry-run=server checks against it.
    let mut offline = Command::new(env!("CARGO_BIN_EXE_pack"));
    offline.args(["install", "demo"]).arg(chart_dir()).args([
        "--dry-run",
        "--kubeconfig",
        "/nonexistent",
    ]);
    let out = ok(&mut offline);
    assert!(
        out.contains("Dry run complete") || out.contains("MANIFEST:"),
        "{out}"
    );
    let out = ok(pack(&s)
        .args(["install", "demo"])
        .arg(chart_dir())
        .arg("--dry-run=server"));
    assert!(out.contains("kind: Deployment"), "{out}");
    // It also shows what would change: everything is new.
    assert!(
        out.contains("DIFF:") && out.contains("+kind: Deployment"),
        "{out}"
    );
    assert!(kubectl_missing(&s, &k, &["deploy", "demo-hello-world"]));
    assert_eq!(ok(pack(&s).args(["list", "-o", "json"])).trim(), "[]");
    // An upgrade dry run shows the one change it would make, and makes none.
    ok(pack(&s).args(["install", "demo"]).arg(chart_dir()));
    let out = ok(pack(&s).args(["upgrade", "demo"]).arg(chart_dir()).args([
        "--set",
        "replicaCount=4",
        "--dry-run",
        "--color",
        "never",
    ]));
    assert!(out.contains("DIFF:"), "{out}");
    assert!(
        out.contains("-  replicas: 1") && out.contains("+  replicas: 4"),
        "{out}"
    );
    assert_eq!(
        kubectl_json(&s, &k, &["deploy", "demo-hello-world"])["spec"]["replicas"],
        1
    );
    ok(pack(&s).args(["uninstall", "demo"]));
    // A release helm made with client-side apply (as Helm 3 did)…
    let helm = || {
        let mut cmd = common::helm(&h, s.dir.path());
        cmd.env("KUBECONFIG", &s.kubeconfig);
        cmd
    };
    ok(helm()
        .args(["install", "old"])
        .arg(shared.join("corpus/charts/hello-world"))
        .args([
            "--server-side=false",
            "--set",
            "serviceAccount.annotations.team=a",
        ]));
    let sa = kubectl_json(&s, &k, &["sa", "old-hello-world", "--show-managed-fields"]);
    assert_eq!(sa["metadata"]["annotations"]["team"], "a");
    // …upgraded by pack: its fields pass to server-side apply, so what the chart no longer
    // sets is removed, and the record says ssa.
    ok(pack(&s)
        .args(["upgrade", "old"])
        .arg(chart_dir())
        .arg("--reset-values"));
    let sa = kubectl_json(&s, &k, &["sa", "old-hello-world", "--show-managed-fields"]);
    assert!(
        sa["metadata"]["annotations"].get("team").is_none(),
        "{}",
        sa["metadata"]
    );
    let ops: Vec<String> = sa["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["manager"].as_str().unwrap_or_default(),
                e["operation"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(ops, ["helm:Apply"], "{ops:?}");
    let meta = ok(pack(&s).args(["get", "metadata", "old", "-o", "json"]));
    assert!(meta.contains("\"applyMethod\":\"ssa\""), "{meta}");
}

fn workload_chart(dir: &Path) -> PathBuf {
    let c = dir.join("workload");
    std::fs::create_dir_all(c.join("templates")).expect("mkdir");
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: pack/v1\nname: workload\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(c.join("values.yaml"), "ready: \"\"\nimage: nginx:1.27\n").expect("write");
    std::fs::write(
        c.join("templates/deploy.yaml"),
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ Release.Name }}-web
{% if Values.ready %}
  annotations: {sim.pack.dev/ready: "{{ Values.ready }}"}
{% endif %}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "{{ Values.image }}"}]}
"#,
    )
    .expect("write");
    c
}

#[test]
fn wait_timeouts_and_rollback_on_failure() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let chart = workload_chart(s.dir.path());
    // --wait succeeds once the Deployment is available, and says so.
    let out = pack(&s)
        .args(["install", "good"])
        .arg(&chart)
        .args(["--wait", "--timeout", "20s"])
        .output()
        .expect("pack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ready: Deployment/good-web"), "{err}");
    // A final table of what was waited for.
    assert!(
        err.lines()
            .any(|l| l.starts_with("RESOURCE") && l.ends_with("READY AFTER")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("Deployment/good-web")
            && l.contains("ready")
            && l.ends_with('s')),
        "{err}"
    );
    // Helm 3's polling waiter gets there too.
    let out = pack(&s)
        .args(["install", "old-style"])
        .arg(&chart)
        .args(["--wait=legacy", "--timeout", "20s"])
        .output()
        .expect("pack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("ready: Deployment/old-style-web"));
    // Never ready: the wait times out, naming what is not ready, and the failure is recorded.
    let out = fails(pack(&s).args(["install", "slow"]).arg(&chart).args([
        "--set",
        "ready=never",
        "--wait",
        "--timeout",
        "2s",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("timed out after 2s waiting for: Deployment/slow-web"),
        "{err}"
    );
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "slow", "-o", "json"]))).expect("json");
    assert_eq!(history[0]["status"], "failed");
    // --rollback-on-failure: a failed install is uninstalled.
    let out = fails(pack(&s).args(["install", "gone"]).arg(&chart).args([
        "--set",
        "ready=fail",
        "--rollback-on-failure",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has been uninstalled due to rollback-on-failure"),
        "{err}"
    );
    assert!(err.contains("progress deadline exceeded"), "{err}");
    assert!(kubectl_missing(&s, &k, &["deploy", "gone-web"]));
    assert!(!ok(pack(&s).args(["list", "-o", "json"])).contains("\"gone\""));
    // A failed upgrade is rolled back to the previous revision.
    let out = fails(pack(&s).args(["upgrade", "good"]).arg(&chart).args([
        "--set",
        "ready=fail,image=nginx:1.28",
        "--atomic",
        "--timeout",
        "20s",
    ]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has been rolled back"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = kubectl_json(&s, &k, &["deploy", "good-web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "good", "-o", "json"]))).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"]);
}

/// Compares output with `tests/data/diff/NAME` (reviewed by hand; `PACK_BLESS=1` writes the
/// file from the output when a change is intended, to be reviewed in the diff of the commit).
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/diff")
        .join(name);
    if std::env::var_os("PACK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden file");
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

#[test]
fn diff_shows_adds_changes_removes_and_masks_secrets() {
    let Some(_) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let dir = s.dir.path();
    let v1 = small_chart(
        dir,
        "d1",
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: old-pass\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: going\n",
    );
    // Before install: everything is an addition.
    let out = ok(pack(&s)
        .args(["diff", "install", "r"])
        .arg(&v1)
        .args(["--color", "never"]));
    assert!(
        out.contains("--- /dev/null\n+++ ConfigMap/default/r-main"),
        "{out}"
    );
    assert!(
        out.ends_with("3 to add, 0 to change, 0 to remove, 0 unchanged\n"),
        "{out}"
    );
    golden("diff-install.txt", &out);
    ok(pack(&s).args(["install", "r"]).arg(&v1));
    let v2 = small_chart(
        dir,
        "d2",
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: new-password\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coming\n",
    );
    std::fs::write(
        v2.join("templates/objects.yaml"),
        std::fs::read_to_string(v2.join("templates/objects.yaml"))
            .expect("read")
            .replace("a: \"1\"", "a: \"2\""),
    )
    .expect("write");
    let out = pack(&s)
        .args(["diff", "upgrade", "r"])
        .arg(&v2)
        .args(["--color", "never", "--exit-code"])
        .output()
        .expect("pack");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-  a: \"1\"\n+  a: \"2\"\n"), "{text}");
    assert!(text.contains("+++ ConfigMap/default/coming"), "{text}");
    assert!(
        text.contains("--- ConfigMap/default/going\n+++ /dev/null"),
        "{text}"
    );
    assert!(
        !text.contains("new-password") && !text.contains("old-pass"),
        "secrets are masked: {text}"
    );
    assert!(text.contains("masked"), "{text}");
    assert!(
        text.ends_with("1 to add, 2 to change, 1 to remove, 0 unchanged\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colors when asked");
    golden("diff-upgrade.txt", &text);
    // --show-secrets shows them; nothing was changed by the diff.
    let out = ok(pack(&s)
        .args(["diff", "upgrade", "r"])
        .arg(&v2)
        .args(["--show-secrets"]));
    assert!(out.contains("bmV3LXBhc3N3b3Jk"), "{out}"); // base64("new-password")
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "r", "-o", "json"]))).expect("json");
    assert_eq!(history.as_array().map(Vec::len), Some(1));
    // No changes: exit 0.
    let out = pack(&s)
        .args(["diff", "upgrade", "r"])
        .arg(&v1)
        .arg("--exit-code")
        .output()
        .expect("pack");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn crds_first_upgrade_install_after_failure_and_a_served_data_dir() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let dir = s.dir.path();
    // crds/ goes in before the templates that use it.
    let c = small_chart(
        dir,
        "withcrd",
        "---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n  size: 2\n",
    );
    std::fs::create_dir_all(c.join("crds")).expect("mkdir");
    std::fs::write(
        c.join("crds/gadgets.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: gadgets, singular: gadget, kind: Gadget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n",
    )
    .expect("write");
    ok(pack(&s).args(["install", "crd"]).arg(&c));
    let g = kubectl_json(&s, &k, &["gadgets", "g1"]);
    assert_eq!(g["spec"]["size"], 2);
    // Upgrades upgrade CRDs too (Helm leaves them).
    let crd_file = c.join("crds/gadgets.yaml");
    let text = std::fs::read_to_string(&crd_file).expect("read");
    std::fs::write(
        &crd_file,
        text.replace("kind: Gadget}", "kind: Gadget, shortNames: [gd]}"),
    )
    .expect("write");
    ok(pack(&s).args(["upgrade", "crd"]).arg(&c));
    let crd = kubectl_json(&s, &k, &["crd", "gadgets.example.com"]);
    assert_eq!(crd["spec"]["names"]["shortNames"][0], "gd");
    // A release whose first install failed can be upgraded with --install.
    let w = workload_chart(dir);
    fails(pack(&s).args(["install", "again"]).arg(&w).args([
        "--set",
        "ready=never",
        "--wait",
        "--timeout",
        "1s",
    ]));
    ok(pack(&s).args(["upgrade", "again"]).arg(&w).args([
        "--install",
        "--wait",
        "--timeout",
        "20s",
        "--reset-values",
    ]));
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "again", "-o", "json"]))).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["superseded", "deployed"]);
}

#[test]
fn pack_goes_through_the_server_that_serves_its_data_dir() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("data");
    let mut server = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["cluster", "serve", "--port", "0"])
        .env("PACK_DATA_HOME", &data)
        .env("HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let mut reader = std::io::BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).expect("banner");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let pack = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pack"));
        cmd.env("HOME", home.path())
            .env_remove("KUBECONFIG")
            .env("PACK_DATA_HOME", &data);
        cmd
    };
    let out = pack()
        .args(["install", "shared"])
        .arg(chart_dir())
        .output()
        .expect("pack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // kubectl, through the server's kubeconfig, sees what pack installed.
    let kubeconfig = data.join("cluster/kubeconfig");
    let objects = Command::new(&k)
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", home.path())
        .args(["get", "deploy", "-o", "name"])
        .output()
        .expect("kubectl");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        String::from_utf8_lossy(&objects.stdout).trim(),
        "deployment.apps/shared-hello-world"
    );
}

#[test]
fn locks_and_recovery_after_a_crash() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let w = workload_chart(s.dir.path());
    ok(pack(&s).args(["install", "app"]).arg(&w));
    // One upgrade holds the lock (waiting on a never-ready rollout); a second is refused.
    let mut first = pack(&s)
        .args(["upgrade", "app"])
        .arg(&w)
        .args([
            "--set",
            "ready=never,image=nginx:1.28",
            "--wait",
            "--timeout",
            "4s",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("first upgrade");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while kubectl_missing(&s, &k, &["lease", "pack-release-app"]) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first upgrade never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = fails(pack(&s).args(["upgrade", "app"]).arg(&w));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("release \"app\" is locked by pack@"), "{err}");
    let _ = first.wait();
    assert!(
        kubectl_missing(&s, &k, &["lease", "pack-release-app"]),
        "the lock is released"
    );
    // A crash right after the new record is written leaves it pending…
    let out = pack(&s)
        .args(["upgrade", "app"])
        .arg(&w)
        .args(["--set", "image=nginx:1.29"])
        .env("PACK_FAILPOINT", "upgrade-after-record")
        .output()
        .expect("pack");
    assert_eq!(out.status.code(), Some(137));
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "app", "-o", "json"]))).expect("json");
    assert_eq!(
        history
            .as_array()
            .and_then(|h| h.last())
            .map(|r| r["status"].clone()),
        Some(Json::from("pending-upgrade"))
    );
    // …the dead holder's lock is taken over, the pending state named with the way out…
    let out = fails(pack(&s).args(["upgrade", "app"]).arg(&w));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pack recover app"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // …and recover repairs it.
    let out = ok(pack(&s).args(["recover", "app"]));
    assert!(out.contains("marked failed"), "{out}");
    ok(pack(&s)
        .args(["upgrade", "app"])
        .arg(&w)
        .args(["--reset-values"]));
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "app", "-o", "json"]))).expect("json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses.last(), Some(&"deployed"), "{statuses:?}");
    assert!(statuses.contains(&"failed"));
}

#[test]
fn hooks_run_by_weight_with_delete_policies_and_pack_test() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let job = |name: &str, weight: i64, policy: &str| {
        format!(
            "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"{weight}\"\n    helm.sh/hook-delete-policy: {policy}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: c, image: busybox}}]\n"
        )
    };
    let extra = format!(
        "{}{}{}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n  annotations:\n    helm.sh/hook: test\nspec:\n  restartPolicy: Never\n  containers: [{{name: t, image: busybox}}]\n",
        job("hook-b", 5, "before-hook-creation"),
        job("hook-c", -1, "before-hook-creation"),
        job("hook-a", 0, "hook-succeeded"),
    );
    let c = small_chart(s.dir.path(), "hooked", &extra);
    ok(pack(&s).args(["install", "h"]).arg(&c));
    let rv = |name: &str| -> u64 {
        kubectl_json(&s, &k, &["job", name])["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("rv")
    };
    // Lower weight first; hook-succeeded hooks are deleted after; hooks are not release objects.
    assert!(rv("hook-c") < rv("hook-b"));
    assert!(kubectl_missing(&s, &k, &["job", "hook-a"]));
    let manifest = ok(pack(&s).args(["get", "manifest", "h"]));
    assert!(!manifest.contains("hook-b"), "{manifest}");
    let hooks = ok(pack(&s).args(["get", "hooks", "h"]));
    assert!(
        hooks.contains("name: hook-b") && hooks.contains("name: smoke"),
        "{hooks}"
    );
    // pack test runs the test hook and records it.
    let out = ok(pack(&s).args(["test", "h", "--logs"]));
    assert!(
        out.contains("TEST SUITE:     smoke") && out.contains("Phase:          Succeeded"),
        "{out}"
    );
    // Uninstall leaves hook objects alone, as Helm does.
    ok(pack(&s).args(["uninstall", "h"]));
    assert!(!kubectl_missing(&s, &k, &["job", "hook-b"]));
}

#[test]
fn a_three_mib_release_round_trips() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let Some(h) = common::reference_tool("helm") else {
        return;
    };
    let s = TestServer::start(None);
    let c = small_chart(s.dir.path(), "big", "");
    std::fs::create_dir_all(c.join("files")).expect("mkdir");
    // Incompressible: the record stays above 3 MiB after gzip.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let blob: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(c.join("files/blob.bin"), &blob).expect("write");
    ok(pack(&s).args(["install", "big"]).arg(&c));
    let pieces = ok(s.kubectl(&k).args(["get", "secrets", "-o", "name"]));
    assert!(
        pieces.contains("secret/sh.helm.release.v1.big.v1.c1"),
        "{pieces}"
    );
    ok(pack(&s)
        .args(["upgrade", "big"])
        .arg(&c)
        .args(["--set", "x=1"]));
    let values = ok(pack(&s).args(["get", "values", "big", "--revision", "2"]));
    assert_eq!(values.trim(), "x: 1");
    let history: Json =
        serde_json::from_str(&ok(pack(&s).args(["history", "big", "-o", "json"]))).expect("json");
    assert_eq!(history.as_array().map(Vec::len), Some(2));
    // helm is not confused by the pieces (it does not see the release it could not read).
    let mut helm = common::helm(&h, s.dir.path());
    helm.env("KUBECONFIG", &s.kubeconfig)
        .args(["list", "-o", "json"]);
    assert_eq!(ok(&mut helm).trim(), "[]");
    ok(pack(&s).args(["uninstall", "big"]));
    let left = ok(s.kubectl(&k).args(["get", "secrets", "-o", "name"]));
    assert!(left.trim().is_empty(), "{left}");
}

/// A Helm chart (Go templates) that keeps its generated password across upgrades by
/// reading its own Secret with `lookup`, as Bitnami's charts do.
fn password_chart(dir: &Path) -> PathBuf {
    let c = dir.join("keeper");
    std::fs::create_dir_all(c.join("templates")).expect("dir");
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: keeper\nversion: 0.1.0\n",
    )
    .expect("Chart.yaml");
    std::fs::write(
        c.join("templates/secret.yaml"),
        r#"{{- $old := lookup "v1" "Secret" .Release.Namespace (printf "%s-pw" .Release.Name) }}
{{- $namespaces := lookup "v1" "Namespace" "" "" }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-pw
  annotations:
    namespaces-seen: {{ ternary "yes" "no" (and (hasKey $namespaces "items") (gt (len $namespaces.items) 0)) | quote }}
data:
  password: {{ if $old }}{{ index $old.data "password" }}{{ else }}{{ randAlphaNum 16 | b64enc }}{{ end }}
"#,
    )
    .expect("template");
    c
}

#[test]
fn lookup_reads_the_live_cluster_on_install_and_upgrade() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let chart = password_chart(s.dir.path());
    ok(pack(&s).args(["install", "keep"]).arg(&chart));
    let first = kubectl_json(&s, &k, &["secret", "keep-pw"]);
    let password = first["data"]["password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert_eq!(password.len(), 24, "{first}");
    assert_eq!(first["metadata"]["annotations"]["namespaces-seen"], "yes");
    // diff sees the cluster too: the kept password means nothing would change.
    let diff = pack(&s)
        .args(["diff", "upgrade", "keep"])
        .arg(&chart)
        .args(["--exit-code", "--color", "never"])
        .output()
        .expect("pack");
    assert_eq!(
        diff.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    ok(pack(&s).args(["upgrade", "keep"]).arg(&chart));
    let second = kubectl_json(&s, &k, &["secret", "keep-pw"]);
    assert_eq!(
        second["data"]["password"], password,
        "lookup must find the installed Secret, so the password survives the upgrade"
    );
    // Offline (template) the lookup finds nothing: a new password every time.
    let offline = ok(Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["template", "keep"])
        .arg(&chart));
    assert!(!offline.contains(&password), "{offline}");
    assert!(offline.contains("namespaces-seen: \"no\""), "{offline}");
}

#[test]
fn real_helm_charts_install_and_upgrade() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let charts = shared.join("corpus/charts");
    let s = TestServer::start(None);
    // cert-manager's ClusterRoles have `:` in their names (valid for RBAC objects).
    let out = ok(pack(&s)
        .args(["install", "cm"])
        .arg(charts.join("cert-manager"))
        .args(["-n", "cm", "--create-namespace"]));
    assert!(out.contains("STATUS: deployed"), "{out}");
    // Bitnami's Redis generates its password once and finds it again with lookup.
    ok(pack(&s)
        .args(["install", "cache"])
        .arg(charts.join("bitnami-redis"))
        .args(["-n", "cache", "--create-namespace"]));
    let password = |s: &TestServer| {
        kubectl_json(s, &k, &["secret", "-n", "cache", "cache-redis"])["data"]["redis-password"]
            .clone()
    };
    let before = password(&s);
    assert!(before.as_str().is_some_and(|p| !p.is_empty()), "{before}");
    ok(pack(&s)
        .args(["upgrade", "cache"])
        .arg(charts.join("bitnami-redis"))
        .args(["-n", "cache"]));
    assert_eq!(password(&s), before);
}

#[test]
fn invalid_objects_stop_install_and_upgrade_before_any_change() {
    let Some(k) = common::reference_tool("kubectl") else {
        return;
    };
    let s = TestServer::start(None);
    let dir = tempfile::tempdir().expect("tmp");
    let bad = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ Release.Name }}-web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        imagePullPolicy: Sometimes\n";
    let chart = small_chart(dir.path(), "checked", bad);
    let out = fails(pack(&s).args(["install", "v"]).arg(&chart));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("checked/templates/objects.yaml:22 Deployment/v-web: spec.template.spec.containers[0].imagePullPolicy: expected one of Always, Never, IfNotPresent"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    // Nothing reached the cluster: no object, no release record.
    assert!(kubectl_missing(&s, &k, &["configmap", "v-main"]));
    let secrets = ok(s.kubectl(&k).args(["get", "secrets", "-o", "name"]));
    assert!(!secrets.contains("sh.helm.release"), "{secrets}");
    // The Helm flag skips the check (the embedded server accepts the value).
    ok(pack(&s)
        .args(["install", "v", "--disable-openapi-validation"])
        .arg(&chart));
    // An upgrade is checked too, and leaves the release as it was.
    let good = small_chart(dir.path(), "good", "");
    std::fs::write(
        good.join("templates/objects.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-main\ndata:\n  a: 1\n",
    )
    .expect("write");
    let out = fails(pack(&s).args(["upgrade", "v"]).arg(&good));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data.a: expected string, got integer 1"),
        "{err}"
    );
    let history = ok(pack(&s).args(["history", "v"]));
    assert_eq!(history.lines().count(), 2, "{history}");

    // A custom resource is checked against its CRD in the cluster.
    let crd = dir.path().join("crd.yaml");
    std::fs::write(&crd, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n").expect("crd");
    ok(s.kubectl(&k).arg("apply").arg("-f").arg(&crd));
    let cr = small_chart(
        dir.path(),
        "cr",
        "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n",
    );
    let out = fails(pack(&s).args(["install", "w"]).arg(&cr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Widget/w: spec.size: expected integer, got string \"big\""),
        "{err}"
    );
    // pack validate learns the cluster's CRDs when asked.
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n",
    )
    .expect("cr");
    let out = ok(pack(&s).arg("validate").arg(&file));
    assert!(out.contains("skipped"), "{out}");
    let out = fails(pack(&s).args(["validate", "--cluster-crds"]).arg(&file));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("spec.size: expected integer"), "{text}");

    // Values are checked against values.schema.json unless --skip-schema-validation.
    let schemaed = small_chart(dir.path(), "schemaed", "");
    std::fs::write(
        schemaed.join("values.schema.json"),
        r#"{"type": "object", "properties": {"size": {"type": "integer"}}}"#,
    )
    .expect("schema");
    let out = fails(
        pack(&s)
            .args(["install", "sv", "--set", "size=big"])
            .arg(&schemaed),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("size"), "{err}");
    ok(pack(&s)
        .args([
            "install",
            "sv",
            "--set",
            "size=big",
            "--skip-schema-validation",
        ])
        .arg(&schemaed));
}
