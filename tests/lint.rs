//! `pack lint` findings, with file and line, and its exit status.

use std::fs;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn lint(args: &[&str], chart: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .arg("lint")
        .arg(chart)
        .args(args)
        .env("PACK_COLOR", "never")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn findings_name_file_and_line_and_fail_the_lint() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("bad");
    write(
        &c,
        "Chart.yaml",
        "apiVersion: v2\nname: bad\nversion: 1.0\n",
    );
    write(&c, "values.yaml", "name: Bad_Name\n");
    write(
        &c,
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    let (code, out) = lint(&[], &c);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ERROR] Chart.yaml: version should be a string"),
        "{out}"
    );
    // Helm reads the number 1.0 as the version "1".
    assert!(
        out.contains("[WARNING] Chart.yaml: version \"1\" is not strict SemVer"),
        "{out}"
    );
    assert!(
        out.contains("Error: 1 chart(s) linted, 1 chart(s) failed"),
        "{out}"
    );
}

#[test]
fn native_chart_names_labels_and_ci_values() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("nat");
    write(
        &c,
        "Chart.yaml",
        "apiVersion: pack/v1\nname: nat\nversion: 1.0.0\nicon: https://x/y.png\n",
    );
    write(&c, "values.yaml", "name: good\n");
    write(
        &c,
        "templates/cm.yaml",
        "apiVersion: v1\n\nkind: ConfigMap\nmetadata:\n  name: {{ Values.name }}\n",
    );
    // Defaults are fine apart from the labels; a ci/ file sets a name Kubernetes refuses.
    let (code, out) = lint(&[], &c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("[INFO] templates/cm.yaml:3: ConfigMap \"good\" lacks the recommended label app.kubernetes.io/name"),
        "{out}"
    );
    write(&c, "ci/bad-values.yaml", "name: Not_Valid\n");
    let (code, out) = lint(&[], &c);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ERROR] templates/cm.yaml:5: with values from ci/bad-values.yaml: ConfigMap/Not_Valid: metadata.name: \"Not_Valid\": a lowercase RFC 1123 subdomain"),
        "{out}"
    );
    // Objects are checked against the Kubernetes schemas, on the template line.
    write(
        &c,
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Values.name }}\ndata:\n  count: 3\n",
    );
    let (code, out) = lint(&[], &c);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ERROR] templates/cm.yaml:6: with values from values.yaml: ConfigMap/good: data.count: expected string, got integer 3"),
        "{out}"
    );
    // --strict also fails on warnings and on undefined values.
    fs::remove_file(c.join("ci/bad-values.yaml")).unwrap();
    write(
        &c,
        "templates/cm.yaml",
        "kind: ConfigMap\nmetadata:\n  name: {{ Values.missing }}\n",
    );
    let (code, out) = lint(&["--strict"], &c);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("undefined value"), "{out}");
}
