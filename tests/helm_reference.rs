//! Differential tests of the foundation against the real helm v4.1.4: offline capabilities,
//! YAML 1.1 value reading and version constraints must be what Helm computes.

mod common;

use common::{helm, reference_tool, run_ok};
use pack::k8s::{Capabilities, KubeVersion};
use pack::value::Value;
use pack::value::yaml::{self, Flavor};
use std::fs;

/// Writes a one-template chart and renders it with helm; returns the template's output.
fn helm_render(template: &str, values: &str, extra_args: &[&str]) -> Option<String> {
    let helm_bin = reference_tool("helm")?;
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("probe");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(chart.join("values.yaml"), values).unwrap();
    fs::write(chart.join("templates/out.yaml"), template).unwrap();
    let out = run_ok(
        helm(&helm_bin, dir.path())
            .arg("template")
            .arg("r")
            .arg(&chart)
            .args(extra_args),
    );
    Some(strip_helm_headers(&out))
}

fn strip_helm_headers(out: &str) -> String {
    out.lines()
        .filter(|l| *l != "---" && !l.starts_with("# Source: "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn offline_capabilities_match_helm() {
    let template = "apis: {{ join \",\" .Capabilities.APIVersions }}\n\
                    version: {{ .Capabilities.KubeVersion.Version }}\n\
                    git: {{ .Capabilities.KubeVersion.GitVersion }}\n\
                    major: {{ .Capabilities.KubeVersion.Major }}\n\
                    minor: {{ .Capabilities.KubeVersion.Minor }}\n\
                    helm: {{ .Capabilities.HelmVersion.Version }}\n";
    let Some(out) = helm_render(template, "", &[]) else {
        return;
    };
    let ours = Capabilities::default();
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_owned()
    };
    assert_eq!(
        field("apis").split(',').collect::<Vec<_>>(),
        ours.api_versions
    );
    assert_eq!(field("version"), ours.kube_version.to_string());
    assert_eq!(field("git"), ours.kube_version.git_version());
    assert_eq!(field("major"), ours.kube_version.major.to_string());
    assert_eq!(field("minor"), ours.kube_version.minor.to_string());
    assert_eq!(field("helm"), pack::k8s::capabilities::HELM_VERSION);

    // --kube-version and --api-versions change what we expect in the same way.
    let Some(out) = helm_render(
        template,
        "",
        &[
            "--kube-version",
            "1.31.2",
            "--api-versions",
            "example.com/v1",
        ],
    ) else {
        return;
    };
    let ours = Capabilities::offline(
        KubeVersion::parse("1.31.2").unwrap(),
        &["example.com/v1".to_owned()],
    );
    assert!(
        out.contains(&format!("version: {}\n", ours.kube_version)),
        "{out}"
    );
    assert!(out.contains("minor: 31\n"), "{out}");
    let apis = out.lines().find_map(|l| l.strip_prefix("apis: ")).unwrap();
    let helm_set: std::collections::BTreeSet<&str> = apis.split(',').collect();
    let our_set: std::collections::BTreeSet<&str> =
        ours.api_versions.iter().map(String::as_str).collect();
    assert_eq!(helm_set, our_set);
}

/// Scalars whose meaning differs between YAML 1.1 and 1.2, read by Helm and by pack.
#[test]
fn yaml11_flavour_reads_values_like_helm() {
    let values = "\
bool_yes: yes
bool_No: No
bool_on: on
bool_OFF: OFF
bool_y: y
bool_n: n
bool_True: True
octal: 0755
octal_zero: 010
hex: 0x1F
underscore: 1_000
int: 1000000
negative: -42
float: 1.5
exp: 1e3
null_tilde: ~
null_empty:
string_date: 2001-12-14
quoted: \"yes\"
list: [on, 0644, 3]
nested:
  y: 1
  key: value
merge_base: &base {p: 1, q: 2}
merged:
  <<: *base
  q: 3
";
    let Some(out) = helm_render("{{ toJson .Values }}", values, &[]) else {
        return;
    };
    let helm_view = Value::from_json(out.trim()).expect("helm printed JSON");
    let mut ours = yaml::from_str(values, Flavor::Yaml11).unwrap();
    // Helm's values pass through JSON: numbers become float64 (compared by value here).
    ours.ints_to_floats();
    let helm_map = helm_view.as_map().unwrap();
    let our_map = ours.as_map().unwrap();
    for (key, theirs) in helm_map {
        assert_eq!(our_map.get(key), Some(theirs), "value {key:?}");
    }
    assert_eq!(
        helm_map.keys().collect::<std::collections::BTreeSet<_>>(),
        our_map.keys().collect::<std::collections::BTreeSet<_>>()
    );
}

/// Rows of `tests/data/constraints.tsv` (see its header).
fn constraint_rows() -> Vec<(String, String, bool)> {
    let unescape = |s: &str| s.replace("\\t", "\t").replace("\\n", "\n");
    include_str!("data/constraints.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (unescape(cols[0]), unescape(cols[1]), cols[2] == "true")
        })
        .collect()
}

/// Constraints where pack deliberately differs from Masterminds (helm errors on them).
fn pack_only(constraint: &str) -> bool {
    // An empty constraint means "any" in pack; Masterminds refuses it.
    constraint.trim().is_empty()
}

#[test]
fn version_constraints_agree_with_helm_semver_compare() {
    let rows: Vec<_> = constraint_rows()
        .into_iter()
        .filter(|(c, _, _)| !pack_only(c))
        .collect();
    let template: String = rows
        .iter()
        .enumerate()
        .map(|(i, (c, v, _))| format!("{i}: {{{{ semverCompare `{c}` `{v}` }}}}\n"))
        .collect();
    let Some(out) = helm_render(&template, "", &[]) else {
        return;
    };
    let mut disagreements = Vec::new();
    for (i, (c, v, _)) in rows.iter().enumerate() {
        let helm_says = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{i}: ")))
            .unwrap_or_else(|| panic!("row {i} missing from helm output"));
        let pack_says = pack::versions::satisfies(c, v).unwrap();
        if helm_says != pack_says.to_string() {
            disagreements.push(format!(
                "{c:?} vs {v:?}: helm {helm_says}, pack {pack_says}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} rows differ from helm:\n{}",
        disagreements.len(),
        rows.len(),
        disagreements.join("\n")
    );
}

#[test]
fn constraints_helm_refuses_are_refused() {
    let rows: Vec<&str> = include_str!("data/constraints-invalid.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert!(rows.len() > 30);
    let Some(helm_bin) = reference_tool("helm") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("probe");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
    )
    .unwrap();
    let mut accepted_by_helm = Vec::new();
    for constraint in rows {
        assert!(
            pack::versions::Constraints::parse(constraint).is_err(),
            "pack accepts {constraint:?}"
        );
        let template = format!("x: {{{{ semverCompare `{constraint}` `1.2.3` }}}}\n");
        fs::write(chart.join("templates/out.yaml"), template).unwrap();
        let status = helm(&helm_bin, dir.path())
            .args(["template", "r"])
            .arg(&chart)
            .output()
            .unwrap()
            .status;
        if status.success() {
            accepted_by_helm.push(constraint);
        }
    }
    assert!(
        accepted_by_helm.is_empty(),
        "helm accepts constraints pack refuses: {accepted_by_helm:?}"
    );
}
