//! Go text/template as Helm runs it: every case of `tests/data/gotmpl/cases.txt` (Helm's own
//! answers, kept current by `scripts/regen-gotmpl-cases`) rendered by pack's Go-template
//! engine, compared byte for byte — output of `templates/t.yaml`, or the error message.

use pack::action::template::{TemplateError, TemplateRequest, render_files};
use pack::k8s::KubeVersion;
use pack::render::{ReleaseInfo, RenderFailure};
use pack::values::ValueOptions;
use std::path::Path;

const DEFAULT_CHART_YAML: &str = "apiVersion: v2\nname: probe\nversion: 0.1.0\n";

#[derive(Debug, Default)]
struct Case {
    name: String,
    files: Vec<(String, String)>,
    args: Vec<String>,
    output: Option<String>,
    error: Option<String>,
}

/// Reads the table: `=== name` starts a case, `--- section` a section; a section's content
/// excludes the newline right before the next header.
fn read_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut section: Option<String> = None;
    let mut buf: Vec<&str> = Vec::new();
    let flush = |cases: &mut Vec<Case>, section: &mut Option<String>, buf: &mut Vec<&str>| {
        if let (Some(name), Some(case)) = (section.take(), cases.last_mut()) {
            let content = buf.join("\n");
            match name.as_str() {
                "output" => case.output = Some(content),
                "error" => case.error = Some(content),
                "args" => case.args = content.lines().map(str::to_owned).collect(),
                file => case.files.push((file.to_owned(), content)),
            }
        }
        buf.clear();
    };
    let text = text.strip_suffix('\n').unwrap_or(text);
    for line in text.split('\n') {
        if let Some(name) = line.strip_prefix("=== ") {
            flush(&mut cases, &mut section, &mut buf);
            cases.push(Case {
                name: name.to_owned(),
                ..Case::default()
            });
        } else if let Some(name) = line.strip_prefix("--- ") {
            flush(&mut cases, &mut section, &mut buf);
            section = Some(name.to_owned());
        } else if section.is_some() {
            buf.push(line);
        }
    }
    flush(&mut cases, &mut section, &mut buf);
    cases
}

fn request(case: &Case, dir: &Path) -> TemplateRequest {
    let mut values = ValueOptions::default();
    let mut release = ReleaseInfo {
        name: "r".into(),
        ..ReleaseInfo::default()
    };
    let mut kube_version = None;
    let mut api_versions = Vec::new();
    let mut it = case.args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--set" => values.set.push(value()),
            "--set-string" => values.set_string.push(value()),
            "--set-json" => values.set_json.push(value()),
            "--is-upgrade" => release.is_upgrade = true,
            "--kube-version" => kube_version = KubeVersion::parse(&value()).ok(),
            "--api-versions" => api_versions.push(value()),
            "-n" | "--namespace" => release.namespace = value(),
            other => panic!("case {}: argument {other} not handled", case.name),
        }
    }
    TemplateRequest {
        chart: dir.to_path_buf(),
        release,
        values,
        kube_version,
        api_versions,
        skip_schema_validation: false,
        strict: false,
        capabilities: None,
        ..TemplateRequest::default()
    }
}

/// What pack answers for a case: the output of templates/t.yaml, or an error message.
fn answer(case: &Case) -> Result<String, String> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("probe");
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    std::fs::write(dir.join("Chart.yaml"), DEFAULT_CHART_YAML).expect("Chart.yaml");
    std::fs::write(dir.join("values.yaml"), "").expect("values.yaml");
    for (name, content) in &case.files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(path, content).expect("file");
    }
    let req = request(case, &dir);
    let chart = pack::chart::load(&dir).map_err(|e| e.to_string())?;
    match render_files(chart, &req, &mut std::io::empty()) {
        Ok(r) => r
            .rendered
            .files
            .into_iter()
            .find(|f| f.path == "probe/templates/t.yaml")
            .map(|f| f.content)
            .ok_or_else(|| "no output for probe/templates/t.yaml".to_owned()),
        Err(TemplateError::Render(RenderFailure::Template(e))) => Err(e.message),
        Err(e) => Err(e.to_string()),
    }
}

fn show(s: &str) -> String {
    if s.len() > 400 {
        let cut: String = s.chars().take(400).collect();
        format!("{cut:?}… ({} bytes)", s.len())
    } else {
        format!("{s:?}")
    }
}

#[test]
fn go_template_cases_render_as_helm_renders_them() {
    let table = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gotmpl/cases.txt"),
    )
    .expect("cases.txt");
    let cases = read_cases(&table);
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let want = match (&case.output, &case.error) {
            (Some(o), None) => Ok(o.clone()),
            (None, Some(e)) => Err(e.clone()),
            _ => panic!("case {}: needs exactly one of output/error", case.name),
        };
        let got = answer(case);
        if got != want {
            failures.push(format!(
                "{}:\n  helm: {}\n  pack: {}",
                case.name,
                match &want {
                    Ok(o) => format!("output {}", show(o)),
                    Err(e) => format!("error {}", show(e)),
                },
                match &got {
                    Ok(o) => format!("output {}", show(o)),
                    Err(e) => format!("error {}", show(e)),
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
