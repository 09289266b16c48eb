//! Native charts against the real helm: `pack create`'s chart renders the same objects as
//! `helm create`'s for each variant, and the shipped `charts/hello-world` the same objects
//! as Helm's hello-world example.

mod common;

use common::{helm, reference_tool, run_ok};
use pack::value::Value;
use pack::value::yaml::{self, Flavor};
use std::path::Path;
use std::process::Command;

/// Documents of `template` output as (source path, object), sorted for comparison.
fn objects(output: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for doc in output.split("\n---\n").flat_map(|d| d.split("---\n")) {
        let mut source = String::new();
        let mut body = Vec::new();
        for line in doc.lines() {
            match line.strip_prefix("# Source: ") {
                Some(s) => source = s.to_owned(),
                None => body.push(line),
            }
        }
        let body = body.join("\n");
        if body.trim().is_empty() {
            continue;
        }
        let value = yaml::from_str(&body, Flavor::Yaml11)
            .unwrap_or_else(|e| panic!("{source}: {e}\n{body}"));
        out.push((source, value));
    }
    out.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.to_json().cmp(&b.1.to_json()))
    });
    out
}

fn pack(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pack"));
    cmd.current_dir(dir)
        .env("PACK_COLOR", "never")
        .env_remove("PACK_NAMESPACE");
    cmd
}

fn compare(what: &str, theirs: &str, ours: &str) -> Vec<String> {
    let (t, o) = (objects(theirs), objects(ours));
    let mut diffs = Vec::new();
    let tk: Vec<&String> = t.iter().map(|x| &x.0).collect();
    let ok: Vec<&String> = o.iter().map(|x| &x.0).collect();
    if tk != ok {
        diffs.push(format!(
            "{what}: documents differ: helm {tk:?}, pack {ok:?}"
        ));
        return diffs;
    }
    for ((src, tv), (_, ov)) in t.iter().zip(&o) {
        if tv != ov {
            diffs.push(format!(
                "{what}: {src} differs\n  helm: {}\n  pack: {}",
                tv.to_json(),
                ov.to_json()
            ));
        }
    }
    diffs
}

#[test]
fn create_renders_the_objects_helm_create_renders() {
    let Some(helm_bin) = reference_tool("helm") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let helm_dir = tempfile::tempdir().unwrap();
    let pack_dir = tempfile::tempdir().unwrap();
    run_ok(
        helm(&helm_bin, home.path())
            .current_dir(helm_dir.path())
            .args(["create", "demo"]),
    );
    run_ok(pack(pack_dir.path()).args(["create", "demo"]));
    let variants: &[&[&str]] = &[
        &[],
        &["--set", "ingress.enabled=true"],
        &["--set", "httpRoute.enabled=true"],
        &["--set", "autoscaling.enabled=true"],
        &["--set", "serviceAccount.create=false"],
        &["--set", "replicaCount=3,service.port=8080"],
        &[
            "--set",
            "ingress.enabled=true,ingress.tls[0].secretName=tls,ingress.tls[0].hosts[0]=a.example",
        ],
        &[
            "--set",
            "podAnnotations.a=b,podLabels.tier=web,resources.limits.cpu=1",
        ],
    ];
    let mut diffs = Vec::new();
    for args in variants {
        let theirs = run_ok(
            helm(&helm_bin, home.path())
                .current_dir(helm_dir.path())
                .args(["template", "r", "demo"])
                .args(*args),
        );
        let ours = run_ok(
            pack(pack_dir.path())
                .args(["template", "r", "demo"])
                .args(*args),
        );
        diffs.extend(compare(&format!("{args:?}"), &theirs, &ours));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn hello_world_renders_the_objects_of_helms_example() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let expected =
        std::fs::read_to_string(shared.join("corpus/expected/hello-world.yaml")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = run_ok(pack(root).args([
        "template",
        "rel",
        "charts/hello-world",
        "--namespace",
        "ns1",
        "--kube-version",
        "1.31.0",
    ]));
    let diffs = compare("hello-world", &expected, &ours);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn helm_refuses_a_native_chart_loudly() {
    let Some(helm_bin) = reference_tool("helm") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/hello-world");
    for args in [
        vec!["template", "r"],
        vec!["install", "r", "--dry-run=client"],
    ] {
        let out = helm(&helm_bin, home.path())
            .args(&args)
            .arg(&chart)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "helm {args:?} accepted a native chart"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("unsupported chart version"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
