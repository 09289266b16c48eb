use super::*;
use crate::value::Value;
use std::fs;
use std::path::Path;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn chart_dir(chart_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Chart.yaml", chart_yaml);
    dir
}

const V2: &str = "apiVersion: v2\nname: demo\nversion: 0.1.0\n";

#[test]
fn loads_the_parts_of_a_chart() {
    let dir = chart_dir(V2);
    write(dir.path(), "values.yaml", "a: 1\n");
    write(dir.path(), "values.schema.json", "{}");
    write(dir.path(), "templates/deploy.yaml", "kind: Deployment");
    write(dir.path(), "templates/_helpers.tpl", "");
    write(dir.path(), "templates/NOTES.txt", "hi");
    write(
        dir.path(),
        "crds/crd.yaml",
        "kind: CustomResourceDefinition",
    );
    write(dir.path(), "crds/notes.md", "not a CRD");
    write(dir.path(), "files/config.ini", "x=1");
    write(dir.path(), "README.md", "# demo");
    let c = load(dir.path()).unwrap();
    assert_eq!(c.name(), "demo");
    assert_eq!(c.engine(), Engine::Helm);
    assert_eq!(c.templates.len(), 3);
    assert!(c.schema.is_some());
    let files: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        files,
        [
            "README.md",
            "crds/crd.yaml",
            "crds/notes.md",
            "files/config.ini"
        ]
    );
    assert_eq!(c.crd_files().count(), 1);
    assert_eq!(c.readme().unwrap().text(), "# demo");
    // Helm charts read numbers from values.yaml as float64.
    assert!(matches!(c.values.get("a"), Some(Value::Float(_))));
}

#[test]
fn native_charts_use_yaml_1_2_and_keep_integers() {
    let dir = chart_dir("apiVersion: pack/v1\nname: native\nversion: 1.0.0\n");
    write(
        dir.path(),
        "values.yaml",
        "on: push\nreplicas: 3\nmode: 0755\n",
    );
    let c = load(dir.path()).unwrap();
    assert_eq!(c.engine(), Engine::Native);
    assert_eq!(c.values.get("on"), Some(&Value::from("push")));
    assert!(matches!(c.values.get("replicas"), Some(Value::Int(3))));
    assert_eq!(c.values.get("mode"), Some(&Value::from("0755")));
}

#[test]
fn native_chart_yaml_must_quote_numbers() {
    let dir = chart_dir("apiVersion: pack/v1\nname: native\nversion: 1.0.0\nappVersion: 1.10\n");
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("appVersion") && err.contains("quote"), "{err}");
    // Helm charts get Helm's reading instead: the number's text.
    let dir = chart_dir("apiVersion: v2\nname: h\nversion: 1.0.0\nappVersion: 1.10\n");
    assert_eq!(load(dir.path()).unwrap().metadata.app_version, "1.1");
}

#[test]
fn chart_yaml_errors_name_the_field() {
    let cases = [
        ("apiVersion: v2\nversion: 1.0.0\n", "name: is required"),
        ("apiVersion: v2\nname: x\n", "version: is required"),
        (
            "apiVersion: v2\nname: x\nversion: one\n",
            "version: invalid semantic version",
        ),
        (
            "apiVersion: v9\nname: x\nversion: 1.0.0\n",
            "apiVersion: \"v9\" is not supported",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\ntype: app\n",
            "type: \"app\" must be application or library",
        ),
        (
            "apiVersion: v2\nname: ../x\nversion: 1.0.0\n",
            "name: \"../x\" is not a valid chart name",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\nkeywords: a\n",
            "keywords: expected a list of strings",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n  alias: b.c\n",
            "dependencies[0].alias",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n- name: a\n",
            "dependencies[1]: more than one dependency is named \"a\"",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n  import-values:\n  - child: c\n",
            "dependencies[0].import-values[0].parent",
        ),
        (
            "apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainers:\n- name: [a]\n",
            "maintainers[0].name",
        ),
    ];
    for (yaml, expected) in cases {
        let dir = chart_dir(yaml);
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("Chart.yaml") && err.contains(expected),
            "{yaml:?}: {err}"
        );
    }
}

#[test]
fn missing_chart_yaml_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "values.yaml", "a: 1");
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("Chart.yaml file is missing"), "{err}");
}

#[test]
fn helmignore_and_default_rule_apply() {
    let dir = chart_dir(V2);
    write(dir.path(), ".helmignore", "# comment\n*.bak\nsecret/\n");
    write(dir.path(), "notes.bak", "x");
    write(dir.path(), "secret/key", "x");
    write(dir.path(), "templates/.hidden.yaml", "x");
    write(dir.path(), "templates/ok.yaml", "x");
    let c = load(dir.path()).unwrap();
    let names: Vec<&str> = c
        .files
        .iter()
        .chain(&c.templates)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, [".helmignore", "templates/ok.yaml"]);
}

#[test]
fn byte_order_marks_are_stripped() {
    let dir = chart_dir(V2);
    write(dir.path(), "values.yaml", "\u{feff}a: b\n");
    let c = load(dir.path()).unwrap();
    assert_eq!(c.values.get("a"), Some(&Value::from("b")));
}

#[test]
fn multi_document_values_merge() {
    let dir = chart_dir(V2);
    write(
        dir.path(),
        "values.yaml",
        "a: {p: 1}\nb: 1\n---\na: {q: 2}\nb: 2\n",
    );
    let c = load(dir.path()).unwrap();
    assert_eq!(c.values.get_path(["a", "p"]), Some(&Value::Float(1.0)));
    assert_eq!(c.values.get_path(["a", "q"]), Some(&Value::Float(2.0)));
    assert_eq!(c.values.get("b"), Some(&Value::Float(2.0)));
}

#[test]
fn bad_yaml_names_the_file_and_line() {
    let dir = chart_dir(V2);
    write(dir.path(), "values.yaml", "a: 1\nb: [1, 2\n");
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("values.yaml") && err.contains("line"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_followed_and_outside_refused() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", "top secret");
    let dir = chart_dir(V2);
    write(dir.path(), "files/real.txt", "real");
    symlink(
        dir.path().join("files/real.txt"),
        dir.path().join("link.txt"),
    )
    .unwrap();
    let c = load(dir.path()).unwrap();
    assert!(
        c.files
            .iter()
            .any(|f| f.name == "link.txt" && f.data == b"real")
    );

    symlink(
        outside.path().join("secret.txt"),
        dir.path().join("leak.txt"),
    )
    .unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("leak.txt") && err.contains("leaves the chart"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn irregular_files_are_refused() {
    let dir = chart_dir(V2);
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: mkfifo is not available");
        return;
    }
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("pipe") && err.contains("irregular"), "{err}");
}

#[cfg(unix)]
#[test]
fn linked_directories_are_walked_and_ignored_pipes_left_alone() {
    use std::os::unix::fs::symlink;
    let dir = chart_dir(V2);
    write(dir.path(), "data/one.txt", "1");
    write(dir.path(), "data/deeper/two.txt", "2");
    symlink(dir.path().join("data"), dir.path().join("alias")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("skipped.pipe"))
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: mkfifo is not available");
        return;
    }
    write(dir.path(), ".helmignore", "*.pipe\n");
    let c = load(dir.path()).unwrap();
    let mut names: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            ".helmignore",
            "alias/deeper/two.txt",
            "alias/one.txt",
            "data/deeper/two.txt",
            "data/one.txt"
        ]
    );
    // A link to the pipe is refused like the pipe, without opening it (which would block).
    symlink(dir.path().join("skipped.pipe"), dir.path().join("link")).unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("link") && err.contains("irregular"), "{err}");
}

#[test]
fn oversized_files_are_refused() {
    let dir = chart_dir(V2);
    let big = vec![b'a'; 5 * 1024 * 1024 + 1];
    fs::write(dir.path().join("big.bin"), big).unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("big.bin") && err.contains("over the limit"),
        "{err}"
    );
}

#[test]
fn subcharts_from_directories_and_archives() {
    let dir = chart_dir(V2);
    write(
        dir.path(),
        "charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    );
    write(dir.path(), "charts/_skipped/Chart.yaml", "not: loaded");
    write(dir.path(), "charts/.hidden/Chart.yaml", "not: loaded");
    // An archive subchart, built in memory.
    let mut tgz = Vec::new();
    {
        let enc = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
        let mut tar = tar::Builder::new(enc);
        let data = b"apiVersion: v2\nname: packed\nversion: 2.0.0\n";
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "packed/Chart.yaml", &data[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    fs::write(dir.path().join("charts/packed-2.0.0.tgz"), tgz).unwrap();
    let c = load(dir.path()).unwrap();
    let names: Vec<&str> = c.dependencies.iter().map(Chart::name).collect();
    assert_eq!(names, ["sub", "packed"]);
    assert!(
        c.dependencies[1]
            .origin
            .ends_with("charts/packed-2.0.0.tgz")
    );
}

#[test]
fn kube_version_constraint_is_checked() {
    use crate::k8s::KubeVersion;
    let with = |c: &str| {
        let dir = chart_dir(&format!("{V2}kubeVersion: \"{c}\"\n"));
        load(dir.path()).unwrap()
    };
    let v = |s: &str| KubeVersion::parse(s).unwrap();
    assert!(
        with(">=1.21.0-0")
            .check_kube_version(&v("v1.27.3-gke.100"))
            .is_ok()
    );
    assert!(
        with(">=1.21.0")
            .check_kube_version(&v("v1.27.3-gke.100"))
            .is_err()
    );
    assert!(
        with(">=1.30.0 <1.36.0")
            .check_kube_version(&v("1.35.0"))
            .is_ok()
    );
    let err = with(">=1.40.0")
        .check_kube_version(&v("1.35.0"))
        .unwrap_err();
    assert_eq!(
        err.to_string().split(';').next().unwrap(),
        "chart requires kubeVersion: >=1.40.0 which is incompatible with Kubernetes v1.35.0"
    );
    assert!(
        with("not a constraint")
            .check_kube_version(&v("1.35.0"))
            .is_err()
    );
}

#[test]
fn mixed_umbrella_reads_each_chart_in_its_own_flavour() {
    let dir = chart_dir("apiVersion: pack/v1\nname: root\nversion: 1.0.0\n");
    write(
        dir.path(),
        "values.yaml",
        "on: push\nreplicas: 2\nhelmsub:\n  fromParent: 3\n",
    );
    write(
        dir.path(),
        "charts/helmsub/Chart.yaml",
        "apiVersion: v2\nname: helmsub\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "charts/helmsub/values.yaml",
        "enabled: yes\nsize: 10\n",
    );
    let mut c = load(dir.path()).unwrap();
    assert_eq!(c.engine(), Engine::Native);
    assert_eq!(c.dependencies[0].engine(), Engine::Helm);
    let computed = crate::values::compute(&mut c, &Default::default(), false).unwrap();
    let v = crate::value::Value::Map(computed.values);
    // Native root: YAML 1.2 and integers; Helm subchart: YAML 1.1 and float64 numbers.
    assert_eq!(v.get("on"), Some(&Value::from("push")));
    assert!(matches!(v.get("replicas"), Some(Value::Int(2))));
    assert_eq!(v.get_path(["helmsub", "enabled"]), Some(&Value::Bool(true)));
    assert!(matches!(
        v.get_path(["helmsub", "size"]),
        Some(Value::Float(_))
    ));
    assert!(matches!(
        v.get_path(["helmsub", "fromParent"]),
        Some(Value::Int(3))
    ));
}
