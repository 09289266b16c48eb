//! Workloads that behave on the embedded API server: helm `--wait` (watcher and legacy) and
//! hook Jobs, kubectl rollout/wait, StatefulSet pods and claims, and the simulation
//! annotations that make a workload slow, never ready or failing.

mod common;

use common::server::{TestServer, fails, ok};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn tools() -> Option<(PathBuf, PathBuf)> {
    Some((
        common::reference_tool("kubectl")?,
        common::reference_tool("helm")?,
    ))
}

fn helm(h: &Path, s: &TestServer) -> Command {
    let mut cmd = common::helm(h, s.dir.path());
    cmd.env("KUBECONFIG", &s.kubeconfig);
    cmd
}

/// A chart with a Deployment, a StatefulSet with a claim, a post-install hook Job, a
/// ConfigMap and a Secret; `.Values.ready` becomes the simulation annotation.
fn chart(dir: &Path) -> PathBuf {
    let c = dir.join("workloads");
    std::fs::create_dir_all(c.join("templates")).expect("mkdir");
    let files = [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: workloads\nversion: 0.1.0\n",
        ),
        ("values.yaml", "ready: \"\"\nreplicas: 2\n"),
        (
            "templates/all.yaml",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}-config}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: {{ .Release.Name }}-secret}
stringData: {password: s3cret}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  {{- with .Values.ready }}
  annotations: {sim.pack.dev/ready: {{ . | quote }}}
  {{- end }}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: {{ .Release.Name }}-db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:17"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations: {"helm.sh/hook": post-install, "helm.sh/hook-delete-policy": before-hook-creation}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "busybox"}]
"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(c.join(name), text).expect("write");
    }
    c
}

#[test]
fn helm_waits_for_workloads_and_hooks() {
    let Some((k, h)) = tools() else { return };
    let s = TestServer::start(None);
    let chart = chart(s.dir.path());
    for wait in ["--wait", "--wait=legacy"] {
        let name = if wait == "--wait" { "a" } else { "b" };
        let started = Instant::now();
        ok(helm(&h, &s).args(["install", name]).arg(&chart).args([
            wait,
            "--timeout",
            "60s",
            "-n",
            name,
            "--create-namespace",
        ]));
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{wait} took {:?}",
            started.elapsed()
        );
        let ready = ok(s.kubectl(&k).args([
            "get",
            "deploy",
            &format!("{name}-web"),
            "-n",
            name,
            "-o",
            "jsonpath={.status.readyReplicas}",
        ]));
        assert_eq!(ready, "2");
        let job = ok(s.kubectl(&k).args([
            "get",
            "job",
            &format!("{name}-migrate"),
            "-n",
            name,
            "-o",
            "jsonpath={.status.succeeded}",
        ]));
        assert_eq!(job, "1");
    }
    let pods = ok(s.kubectl(&k).args(["get", "pods", "-n", "a", "-o", "name"]));
    assert!(
        pods.contains("pod/a-db-0") && pods.contains("pod/a-db-1"),
        "{pods}"
    );
    assert_eq!(
        pods.lines().filter(|l| l.contains("a-web-")).count(),
        2,
        "{pods}"
    );
    let claims = ok(s.kubectl(&k).args([
        "get",
        "pvc",
        "-n",
        "a",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}",
    ]));
    assert_eq!(claims.trim(), "data-a-db-0=Bound data-a-db-1=Bound");
    // Uninstall with --wait: everything the release made goes, pods included.
    ok(helm(&h, &s).args(["uninstall", "a", "-n", "a", "--wait", "--timeout", "30s"]));
    let left = ok(s
        .kubectl(&k)
        .args(["get", "deploy,rs,pods,sts", "-n", "a", "-o", "name"]));
    assert!(left.trim().is_empty(), "{left}");
}

#[test]
fn never_ready_and_failing_workloads_time_out() {
    let Some((_, h)) = tools() else { return };
    let s = TestServer::start(None);
    let chart = chart(s.dir.path());
    let started = Instant::now();
    let out = fails(helm(&h, &s).args(["install", "slow"]).arg(&chart).args([
        "--set",
        "ready=never",
        "--wait",
        "--timeout",
        "3s",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "gave up early: {err}"
    );
    assert!(
        err.contains("context deadline exceeded") || err.contains("timed out"),
        "{err}"
    );
    let started = Instant::now();
    let out = fails(helm(&h, &s).args(["install", "broken"]).arg(&chart).args([
        "--set",
        "ready=fail",
        "--wait",
        "--timeout",
        "30s",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "a failed rollout should fail fast, took {:?}: {err}",
        started.elapsed()
    );
}

#[test]
fn kubectl_rollout_and_wait() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start(None);
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {sim.pack.dev/ready-after: 300ms}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'nginx:1.27'}]}\n";
    let file = s.dir.path().join("d.yaml");
    std::fs::write(&file, deploy).expect("write");
    ok(s.kubectl(&k).args(["apply", "-f"]).arg(&file));
    ok(s.kubectl(&k)
        .args(["rollout", "status", "deploy/web", "--timeout=20s"]));
    ok(s.kubectl(&k)
        .args(["set", "image", "deploy/web", "web=nginx:1.28"]));
    ok(s.kubectl(&k)
        .args(["rollout", "status", "deploy/web", "--timeout=20s"]));
    let history = ok(s.kubectl(&k).args(["rollout", "history", "deploy/web"]));
    assert!(
        history.contains("1 ") && history.contains("2 "),
        "{history}"
    );
    ok(s.kubectl(&k).args(["rollout", "undo", "deploy/web"]));
    let image = ok(s.kubectl(&k).args([
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]));
    assert_eq!(image, "nginx:1.27");
    // The undone revision's ReplicaSet is reused, not copied.
    let sets = ok(s.kubectl(&k).args(["get", "rs", "-o", "name"]));
    assert_eq!(sets.lines().count(), 2, "{sets}");
    ok(s.kubectl(&k).args([
        "wait",
        "--for=condition=Available",
        "deploy/web",
        "--timeout=20s",
    ]));
    // (`kubectl create job` and `kubectl run` send protobuf bodies pack does not decode for
    // those kinds; the same objects from files.)
    let more = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec: {containers: [{name: c, image: nginx}]}\n";
    let file = s.dir.path().join("more.yaml");
    std::fs::write(&file, more).expect("write");
    ok(s.kubectl(&k).args(["apply", "-f"]).arg(&file));
    ok(s.kubectl(&k).args([
        "wait",
        "--for=condition=Complete",
        "job/once",
        "--timeout=20s",
    ]));
    ok(s.kubectl(&k)
        .args(["wait", "--for=condition=Ready", "pod/solo", "--timeout=20s"]));
}

#[test]
fn daemonsets_replication_controllers_cronjobs_and_volumes() {
    let Some((k, _)) = tools() else { return };
    let s = TestServer::start_with(pack::apiserver::Config {
        nodes: 3,
        ..pack::apiserver::Config::default()
    });
    let nodes = ok(s.kubectl(&k).args(["get", "nodes", "-o", "name"]));
    assert_eq!(nodes.lines().count(), 3, "{nodes}");
    let objects = r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: busybox}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: l, image: nginx}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: t, image: busybox}]}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: standard
  hostPath: {path: /data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
"#;
    let file = s.dir.path().join("objects.yaml");
    std::fs::write(&file, objects).expect("write");
    ok(s.kubectl(&k).args(["apply", "-f"]).arg(&file));
    ok(s.kubectl(&k)
        .args(["rollout", "status", "ds/agent", "--timeout=20s"]));
    let on_nodes = ok(s.kubectl(&k).args([
        "get",
        "pods",
        "-l",
        "app=agent",
        "-o",
        "jsonpath={range .items[*]}{.spec.nodeName} {end}",
    ]));
    let mut on_nodes: Vec<&str> = on_nodes.split_whitespace().collect();
    on_nodes.sort();
    assert_eq!(on_nodes, ["pack-node", "pack-node-2", "pack-node-3"]);
    let legacy = ok(s
        .kubectl(&k)
        .args(["get", "pods", "-l", "app=legacy", "-o", "name"]));
    assert_eq!(legacy.lines().count(), 2, "{legacy}");
    // The claim binds to the matching volume rather than a new one.
    let bound = ok(s.kubectl(&k).args([
        "get",
        "pvc",
        "claim",
        "-o",
        "jsonpath={.status.phase} {.spec.volumeName}",
    ]));
    assert_eq!(bound, "Bound big");
    // A CronJob whose last run is long past gets its Job at once.
    let past = "2026-01-01T00:00:00Z";
    ok(s.kubectl(&k).args([
        "patch",
        "cronjob",
        "tick",
        "--subresource=status",
        "--type=merge",
        "-p",
        &format!(r#"{{"status":{{"lastScheduleTime":"{past}"}}}}"#),
    ]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let jobs = ok(s.kubectl(&k).args(["get", "jobs", "-o", "name"]));
        if jobs.contains("job.batch/tick-") {
            break;
        }
        assert!(Instant::now() < deadline, "no job from the cronjob: {jobs}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn helm_create_chart_installs_and_waits() {
    let Some((k, h)) = tools() else { return };
    let s = TestServer::start(None);
    ok(helm(&h, &s)
        .current_dir(s.dir.path())
        .args(["create", "made"]));
    ok(helm(&h, &s)
        .args(["install", "made"])
        .arg(s.dir.path().join("made"))
        .args(["--wait", "--timeout", "30s"]));
    let ready = ok(s.kubectl(&k).args([
        "get",
        "deploy",
        "made",
        "-o",
        "jsonpath={.status.availableReplicas}",
    ]));
    assert_eq!(ready, "1");
    ok(helm(&h, &s).args(["test", "made"]));
    ok(helm(&h, &s).args(["uninstall", "made", "--wait"]));
}
