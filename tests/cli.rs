//! The `pack` binary's basic commands, run as a user runs them.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

fn pack() -> Command {
    let mut cmd = Command::cargo_bin("pack").expect("pack binary");
    // A predictable environment: no user settings leak into the assertions.
    for var in [
        "PACK_CACHE_HOME",
        "PACK_CONFIG_HOME",
        "PACK_DATA_HOME",
        "PACK_NAMESPACE",
        "PACK_KUBECONTEXT",
        "PACK_DEBUG",
        "PACK_COLOR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "KUBECONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", "/home/tester");
    cmd
}

#[test]
fn version_prints_pack_and_helm_versions() {
    pack()
        .arg("version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(format!(
            "pack v{}",
            env!("CARGO_PKG_VERSION")
        )))
        .stdout(predicate::str::contains("Helm v4.1.4"))
        .stdout(predicate::str::contains("v1.35.0"));
}

#[test]
fn version_short_and_json() {
    pack()
        .args(["version", "--short"])
        .assert()
        .success()
        .stdout(format!("v{}\n", env!("CARGO_PKG_VERSION")));
    let out = pack().args(["version", "-o", "json"]).output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["version"], format!("v{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(json["helmCompatibility"], "v4.1.4");
    assert_eq!(json["defaultKubeVersion"], "v1.35.0");
}

#[test]
fn env_lists_directories_with_overrides() {
    pack()
        .arg("env")
        .env("PACK_CACHE_HOME", "/tmp/pack-cache")
        .env("XDG_CONFIG_HOME", "/xdg")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "PACK_CACHE_HOME=\"/tmp/pack-cache\"",
        ))
        .stdout(predicate::str::contains("PACK_CONFIG_HOME=\"/xdg/pack\""))
        .stdout(predicate::str::contains(
            "PACK_REPOSITORY_CONFIG=\"/xdg/pack/repositories.yaml\"",
        ))
        .stdout(predicate::str::contains("PACK_NAMESPACE=\"default\""));
}

#[test]
fn env_single_variable_and_namespace_sources() {
    pack()
        .args(["env", "PACK_DATA_HOME"])
        .assert()
        .success()
        .stdout("/home/tester/.local/share/pack\n");
    pack()
        .args(["env", "PACK_NAMESPACE"])
        .env("PACK_NAMESPACE", "from-env")
        .assert()
        .stdout("from-env\n");
    // The flag wins over the environment.
    pack()
        .args(["env", "PACK_NAMESPACE", "-n", "from-flag"])
        .env("PACK_NAMESPACE", "from-env")
        .assert()
        .stdout("from-flag\n");
    let out = pack().args(["env", "-o", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["PACK_CACHE_HOME"], "/home/tester/.cache/pack");
}

#[test]
fn completion_scripts_for_each_shell() {
    pack()
        .args(["completion", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_pack()"))
        .stdout(predicate::str::contains("complete -F _pack"));
    pack()
        .args(["completion", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("#compdef pack"));
    pack()
        .args(["completion", "fish"])
        .assert()
        .success()
        .stdout(predicate::str::contains("complete -c pack"));
    pack()
        .args(["completion", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    pack()
        .arg("no-such-command")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand"));
    pack()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--kube-context"))
        .stdout(predicate::str::contains("--namespace"));
    for cmd in ["version", "env", "completion"] {
        pack()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("--kubeconfig"));
    }
}

#[test]
fn template_output_cut_short_by_its_reader_is_not_an_error() {
    use std::io::Read as _;
    use std::process::{Command as Process, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("big");
    common::write_files(
        &chart,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: big\nversion: 0.1.0\n"),
            // About 1 MB of output, far more than a pipe holds.
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n\
                 {{- range $i := until 40000 }}\n  k{{ $i }}: \"some value to fill the pipe\"\n{{- end }}\n",
            ),
        ],
    );
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("pack"))
        .args(["template", "r"])
        .arg(&chart)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is closed here; pack's next writes fail with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("---\n# Source: big/templates/cm.yaml"));
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn template_include_crds_prints_them_first() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("crdc");
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: xs.example.com\n";
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    common::write_files(
        &chart,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: crdc\nversion: 0.1.0\n"),
            ("crds/x.yaml", crd),
            ("templates/cm.yaml", cm),
        ],
    );
    // As helm v4.1.4 prints it: the CRD file whole, then each manifest.
    pack()
        .args(["template", "r", "--include-crds"])
        .arg(&chart)
        .assert()
        .success()
        .stdout(format!(
            "---\n# Source: crdc/crds/x.yaml\n{crd}\n---\n# Source: crdc/templates/cm.yaml\n{}\n",
            cm.trim_end()
        ));
    pack()
        .args(["template", "r"])
        .arg(&chart)
        .assert()
        .success()
        .stdout(format!(
            "---\n# Source: crdc/templates/cm.yaml\n{}\n",
            cm.trim_end()
        ));
}
