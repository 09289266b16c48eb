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

/// The same verdict as PyPI's kubernetes-validate on every corpus output and every broken
/// manifest, apart from the disagreements listed (with who is right) in
/// tests/data/validate/disagreements.tsv. The script installs kubernetes-validate.
#[test]
fn same_verdicts_as_kubernetes_validate() {
    let Some(_shared) = common::shared_dir() else {
        return;
    };
    let python = Command::new("python3").arg("--version").output();
    if python.is_err() {
        assert!(
            !common::in_ci(),
            "python3 is needed for the differential check"
        );
        eprintln!("SKIPPED: python3 not found; the differential check needs it");
        return;
    }
    let out = Command::new("scripts/differential-validate")
        .args(["--pack", env!("CARGO_BIN_EXE_pack")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(" same verdict, 11 documented disagreements"),
        "{stdout}"
    );
}

#[test]
fn crds_schema_locations_and_report_formats() {
    let dir = tempfile::tempdir().unwrap();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n";
    let cr = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n";
    // A CRD among the manifests checks its custom resources, wherever they are.
    let (code, out, _) = pack(&["validate", "-"], &format!("{cr}---\n{crd}"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("INVALID -:6 Widget/w: spec.size: expected integer, got string \"big\""),
        "{out}"
    );
    // Without it the custom resource is skipped; --schema-location gives it (a CRD file, or
    // a catalog-style JSON Schema `<group>/<kind>_<version>.json`).
    let (code, out, _) = pack(&["validate", "-"], cr);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("skipped -:1 Widget/w"), "{out}");
    std::fs::write(dir.path().join("crd.yaml"), crd).unwrap();
    let loc = dir.path().join("crd.yaml");
    let (code, out, _) = pack(
        &["validate", "--schema-location", loc.to_str().unwrap(), "-"],
        cr,
    );
    assert_eq!(code, 1, "{out}");
    let catalog = dir.path().join("catalog/example.com");
    std::fs::create_dir_all(&catalog).unwrap();
    std::fs::write(
        catalog.join("widget_v1.json"),
        r#"{"type":"object","properties":{"kind":{"enum":["Widget"]},"spec":{"type":"object","properties":{"size":{"type":"integer","maximum":5}}}}}"#,
    )
    .unwrap();
    let loc = dir.path().join("catalog");
    let (code, out, _) = pack(
        &["validate", "--schema-location", loc.to_str().unwrap(), "-"],
        &cr.replace("big", "9"),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("spec.size: expected at most 5, got 9"),
        "{out}"
    );

    // JSON and JUnit reports.
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  count: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";
    let (code, out, _) = pack(&["validate", "-o", "json", "-"], bad);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json report");
    assert_eq!(doc["summary"]["invalid"], 1);
    assert_eq!(doc["summary"]["valid"], 1);
    assert_eq!(doc["resources"][0]["problems"][0]["path"], "data.count");
    assert_eq!(doc["resources"][0]["problems"][0]["line"], 6);
    let (code, out, _) = pack(&["validate", "-o", "junit", "-"], bad);
    assert_eq!(code, 1);
    assert!(out.starts_with("<?xml"), "{out}");
    assert!(
        out.contains("<testcase classname=\"-\" name=\"ConfigMap/a\"><failure message=\"1 problem(s)\">-:6 ConfigMap/a: data.count: expected string, got integer 1</failure></testcase>"),
        "{out}"
    );
    assert!(
        out.contains("<testcase classname=\"-\" name=\"ConfigMap/b\"/>"),
        "{out}"
    );
}

/// Golden reports, one per file of deliberately broken manifests: every rule's message and
/// line (`PACK_BLESS=1` rewrites them; review the diff).
#[test]
fn golden_reports_for_every_rule() {
    let dir = std::path::Path::new("tests/data/validate/broken");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    for f in files {
        let out = Command::new(env!("CARGO_BIN_EXE_pack"))
            .args(["validate", "--quiet"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", f.display());
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let golden = f.with_extension("golden");
        if std::env::var_os("PACK_BLESS").is_some() {
            std::fs::write(&golden, &text).unwrap();
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("{} missing: run with PACK_BLESS=1", golden.display()));
        assert_eq!(text, want, "{}", f.display());
    }
}
