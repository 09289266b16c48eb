//! Chart commands through the binary: `show`, `dependency list`, and loader errors, with
//! pack's output compared to the real helm's on every corpus chart.

mod common;

use assert_cmd::Command;
use common::{helm, reference_tool};
use predicates::prelude::*;
use std::path::Path;

fn pack() -> Command {
    let mut cmd = Command::cargo_bin("pack").expect("pack binary");
    cmd.env_remove("PACK_NAMESPACE").env("PACK_COLOR", "never");
    cmd
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/charts")
        .join(name)
}

#[test]
fn show_and_dependency_list_match_helm_on_the_corpus() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let Some(helm_bin) = reference_tool("helm") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let charts = shared.join("corpus/charts");
    let mut differences = Vec::new();
    let mut compared = 0;
    for entry in std::fs::read_dir(&charts).unwrap() {
        let chart = entry.unwrap().path();
        for args in [
            vec!["show", "chart"],
            vec!["show", "all"],
            vec!["show", "values"],
            vec!["show", "readme"],
            vec!["show", "crds"],
            vec!["dependency", "list"],
        ] {
            let theirs = helm(&helm_bin, home.path())
                .args(&args)
                .arg(&chart)
                .output()
                .unwrap();
            let ours = pack().args(&args).arg(&chart).output().unwrap();
            compared += 1;
            if theirs.stdout != ours.stdout || theirs.status.success() != ours.status.success() {
                differences.push(format!("{} {}", args.join(" "), chart.display()));
            }
        }
    }
    assert!(compared >= 100, "compared {compared}");
    assert!(
        differences.is_empty(),
        "differ from helm:\n{}",
        differences.join("\n")
    );
}

#[test]
fn computed_values_of_the_umbrella_fixture() {
    let out = pack()
        .args(["show", "values", "--computed"])
        .arg(fixture("umbrella"))
        .args(["--set", "sub-b.enabled=false,replicaCount=3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = pack::value::yaml::from_str(
        &String::from_utf8_lossy(&out.stdout),
        pack::value::yaml::Flavor::Yaml11,
    )
    .unwrap();
    assert_eq!(v.get("replicaCount"), Some(&pack::value::Value::Int(3)));
    // sub-b is disabled, so nothing is imported from it.
    assert!(v.get("fromB").is_none());
    assert_eq!(
        v.get_path(["fromFirst", "own"]),
        Some(&pack::value::Value::from("parent-wins"))
    );
}

#[test]
fn bad_set_and_schema_errors_exit_1_with_helm_wording() {
    pack()
        .args(["show", "values", "--computed"])
        .arg(fixture("umbrella"))
        .args(["--set", "q"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "failed parsing --set data: key \"q\" has no value",
        ));
    pack()
        .args(["show", "values", "--computed"])
        .arg(fixture("umbrella"))
        .args(["--set", "sub-b=flat"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("type mismatch on umbrella.sub-b"));
}

#[test]
fn schema_errors_come_before_template_errors() {
    // The render runs beside the schema check; a template that fails on the same bad
    // values must not hide the schema's finding, as Helm checks values first.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("strict");
    common::write_files(
        &chart,
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: strict\nversion: 0.1.0\n",
            ),
            ("values.yaml", "replicas: 1\n"),
            (
                "values.schema.json",
                r#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}}"#,
            ),
            (
                "templates/cm.yaml",
                "{{ if lt (int .Values.replicas) 1 }}{{ fail \"replicas below one\" }}{{ end }}\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            ),
        ],
    );
    pack()
        .args(["template", "r"])
        .arg(&chart)
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: ConfigMap"));
    pack()
        .args(["template", "r"])
        .arg(&chart)
        .args(["--set", "replicas=0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/replicas"))
        .stderr(predicate::str::contains("minimum"))
        .stderr(predicate::str::contains("replicas below one").not());
    // Without the check, the template's own error shows.
    pack()
        .args(["template", "r", "--skip-schema-validation"])
        .arg(&chart)
        .args(["--set", "replicas=0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("replicas below one"));
}

#[test]
fn unsafe_archives_are_refused_with_the_entry_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil-1.0.0.tgz");
    let mut tgz = Vec::new();
    {
        let enc = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
        let mut tar = tar::Builder::new(enc);
        let mut add = |name: &str, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            tar.append(&header, data).unwrap();
        };
        add(
            "evil/Chart.yaml",
            b"apiVersion: v2\nname: evil\nversion: 1.0.0\n",
        );
        add("evil/../../etc/passwd", b"x");
        tar.into_inner().unwrap().finish().unwrap();
    }
    std::fs::write(&path, tgz).unwrap();
    pack()
        .args(["show", "chart"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("etc/passwd"))
        .stderr(predicate::str::contains("traversal"));
}

#[test]
fn missing_chart_path_is_a_clear_error() {
    pack()
        .args(["show", "chart", "/no/such/chart"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("loading chart /no/such/chart"))
        .stderr(predicate::str::contains("No such file"));
}
