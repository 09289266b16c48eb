//! `pack validate` and `pack template --validate` through the binary.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

fn pack(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PACK_COLOR", "never")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_objects_are_listed_with_line_and_exit_1() {
    let manifests = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {a: b}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replica: 2\n  selector: {}\n  template: {}\n";
    let (code, out, err) = pack(&["validate", "-"], manifests);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ok      -:1 ConfigMap/ok"), "{out}");
    assert!(
        out.contains("INVALID -:11 Deployment/web: spec.replica: unknown field \"replica\": did you mean \"replicas\"?"),
        "{out}"
    );
    assert!(
        err.contains("2 objects: 1 valid, 1 invalid, 0 skipped"),
        "{err}"
    );
    // --no-strict lets unknown fields through.
    let (code, _, err) = pack(&["validate", "--no-strict", "-"], manifests);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn template_validate_points_at_the_template() {
    // The value comes from `toYaml`, so the problem is placed on the template line that
    // writes `securityContext:`.
    let template = std::fs::read_to_string("charts/webapp/templates/deployment.yaml").unwrap();
    let security_context_line = (template
        .lines()
        .position(|l| l.trim_start().starts_with("securityContext:"))
        .expect("securityContext line")
        + 1)
    .to_string();
    let (code, _, err) = pack(
        &[
            "template",
            "demo",
            "charts/webapp",
            "--validate",
            "--set",
            "podSecurityContext.runAsUsr=1000",
        ],
        "",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&"webapp/templates/deployment.yaml:LINE Deployment/demo-webapp: spec.template.spec.securityContext.runAsUsr: unknown field \"runAsUsr\": did you mean \"runAsUser\"?".replace("LINE", &security_context_line)),
        "{err}"
    );
    let (code, _, err) = pack(&["template", "demo", "charts/webapp", "--validate"], "");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn every_corpus_output_is_valid_for_its_kubernetes_version() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let corpus = shared.join("corpus");
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(["validate", "--kube-version", "1.31.0", "--quiet"])
        .arg(corpus.join("expected"))
        .arg(corpus.join("expected_extra"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 1,238 built-in objects valid, custom resources skipped.
    let summary = stdout.lines().last().unwrap_or_default();
    let valid: usize = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" valid"))
        .and_then(|n| n.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(valid > 1000, "{summary}");
}
