//! Umbrellas mixing chart kinds: a native (pack/v1) parent with a Helm subchart and the
//! reverse. Each chart renders with its own engine, values cross as data (globals and the
//! subchart's table), and an `include` of a template the other kind defines fails saying so.

use pack::action::template::{TemplateError, TemplateRequest, render_chart};
use pack::render::RenderFailure;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, content).expect("write");
    }
}

fn render(dir: &Path) -> Result<Vec<(String, String)>, TemplateError> {
    let req = TemplateRequest {
        chart: dir.to_path_buf(),
        ..TemplateRequest::default()
    };
    let r = render_chart(&req, &mut std::io::empty())?;
    Ok(r.manifests
        .into_iter()
        .map(|m| (m.source, m.content))
        .collect())
}

const HELM_SUB: &[(&str, &str)] = &[
    (
        "charts/legacy/Chart.yaml",
        "apiVersion: v2\nname: legacy\nversion: 1.0.0\n",
    ),
    ("charts/legacy/values.yaml", "port: 8080\n"),
    (
        "charts/legacy/templates/_helpers.tpl",
        "{{- define \"legacy.name\" -}}{{ .Release.Name }}-legacy{{- end }}\n",
    ),
    (
        "charts/legacy/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"legacy.name\" . }}\ndata:\n  port: {{ .Values.port | quote }}\n  env: {{ .Values.global.env }}\n  typed: {{ printf \"%T\" .Values.port }}\n",
    ),
];

#[test]
fn native_parent_renders_a_helm_subchart_with_its_own_engine() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("app");
    let mut files = vec![
        (
            "Chart.yaml",
            "apiVersion: pack/v1\nname: app\nversion: 0.1.0\ndependencies:\n  - name: legacy\n    version: 1.0.0\n",
        ),
        (
            "values.yaml",
            "global:\n  env: prod\nlegacy:\n  port: 9090\nreplicas: 2\n",
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}-app\ndata:\n  replicas: \"{{ Values.replicas }}\"\n  env: {{ Values.global.env }}\n",
        ),
    ];
    files.extend_from_slice(HELM_SUB);
    write(&dir, &files);
    let out = render(&dir).expect("renders");
    let by_source = |s: &str| {
        out.iter()
            .find(|(src, _)| src == s)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| panic!("no output from {s}: {out:?}"))
    };
    let app = by_source("app/templates/cm.yaml");
    assert!(app.contains("name: release-name-app"), "{app}");
    assert!(app.contains("replicas: \"2\""), "{app}");
    let legacy = by_source("app/charts/legacy/templates/cm.yaml");
    assert!(legacy.contains("name: release-name-legacy"), "{legacy}");
    // The parent's table for the subchart wins; a value keeps the type its own file gave
    // it (the native parent's YAML 1.2 integer stays an integer).
    assert!(legacy.contains("port: \"9090\""), "{legacy}");
    assert!(legacy.contains("typed: int64"), "{legacy}");
    assert!(legacy.contains("env: prod"), "{legacy}");
}

#[test]
fn an_include_across_chart_kinds_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("app");
    let mut files = vec![
        (
            "Chart.yaml",
            "apiVersion: pack/v1\nname: app\nversion: 0.1.0\ndependencies:\n  - name: legacy\n    version: 1.0.0\n",
        ),
        ("values.yaml", "global:\n  env: prod\n"),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include(\"legacy.name\", ctx) }}\n",
        ),
    ];
    files.extend_from_slice(HELM_SUB);
    write(&dir, &files);
    let err = match render(&dir) {
        Err(TemplateError::Render(RenderFailure::Template(e))) => e,
        other => panic!("expected a render error, got {other:?}"),
    };
    assert!(
        err.message
            .contains("\"legacy.name\" is defined in a Helm (Go-template) chart"),
        "{}",
        err.message
    );
}

#[test]
fn helm_parent_renders_a_native_subchart_and_refuses_its_defines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("umbrella");
    write(
        &dir,
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: modern\n    version: 1.0.0\n",
            ),
            ("values.yaml", "modern:\n  size: 3\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-umbrella\n",
            ),
            (
                "charts/modern/Chart.yaml",
                "apiVersion: pack/v1\nname: modern\nversion: 1.0.0\n",
            ),
            ("charts/modern/values.yaml", "size: 1\n"),
            (
                "charts/modern/templates/_helpers.tpl",
                "{% define \"modern.name\" %}{{ Release.Name }}-modern{% enddefine %}",
            ),
            (
                "charts/modern/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include(\"modern.name\", ctx) }}\ndata:\n  size: \"{{ Values.size }}\"\n",
            ),
        ],
    );
    let out = render(&dir).expect("renders");
    let modern = out
        .iter()
        .find(|(s, _)| s == "umbrella/charts/modern/templates/cm.yaml")
        .map(|(_, c)| c.clone())
        .expect("native subchart output");
    assert!(modern.contains("name: release-name-modern"), "{modern}");
    // A native chart keeps integers as integers.
    assert!(modern.contains("size: \"3\""), "{modern}");

    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"modern.name\" . }}\n",
    )
    .expect("write");
    let err = match render(&dir) {
        Err(TemplateError::Render(RenderFailure::Template(e))) => e,
        other => panic!("expected a render error, got {other:?}"),
    };
    assert!(
        err.message.contains("is defined in a native pack/v1 chart"),
        "{}",
        err.message
    );
}
