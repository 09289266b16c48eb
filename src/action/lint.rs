//! `pack lint`: checks a chart the way `helm lint` does — Chart.yaml, values and schema,
//! rendering with the defaults and every `ci/*.yaml`, YAML validity, names and
//! recommended labels — and reports findings with file and line.

use super::template::{TemplateError, TemplateRequest, render_loaded};
use crate::chart::{self, Chart};
use crate::manifest::Manifest;
use crate::value::Value;
use crate::values::ValueOptions;
use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A suggestion.
    Info,
    /// Probably a mistake; fails the lint with `--strict`.
    Warning,
    /// The chart cannot be installed as it is.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        })
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The file, relative to the chart (`templates/x.yaml:12` when the line is known).
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.severity, self.location, self.message)
    }
}

/// Lints the chart at `path` with the given values (and, in addition, each `ci/*.yaml`);
/// `skip_schema_validation` leaves values.schema.json unchecked.
pub fn lint(
    path: &Path,
    values: &ValueOptions,
    strict: bool,
    skip_schema_validation: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let add = |findings: &mut Vec<Finding>, severity, location: &str, message: String| {
        findings.push(Finding {
            severity,
            location: location.to_owned(),
            message,
        })
    };
    let chart = match chart::load(path) {
        Ok(c) => c,
        Err(e) => {
            add(&mut findings, Severity::Error, "Chart.yaml", e.to_string());
            return findings;
        }
    };
    chart_yaml_rules(&chart, &mut findings);
    if chart.values_text.is_none() {
        add(
            &mut findings,
            Severity::Info,
            "values.yaml",
            "file does not exist".into(),
        );
    }
    if chart.metadata.is_library() {
        return findings;
    }
    let mut runs: Vec<(String, ValueOptions)> = vec![("values.yaml".into(), values.clone())];
    let mut ci: Vec<PathBuf> = std::fs::read_dir(path.join("ci"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    ci.sort();
    for file in ci {
        let mut opts = values.clone();
        opts.values_files.insert(0, file.display().to_string());
        let name = file
            .strip_prefix(path)
            .map_or_else(|_| file.display().to_string(), |p| p.display().to_string());
        runs.push((name, opts));
    }
    // Rendered objects are checked against the default Kubernetes version's schemas (and
    // the chart's CRDs), as `pack template --validate` checks them.
    let mut validator = crate::validate::Validator::new(&crate::k8s::KubeVersion::default(), true);
    for (label, opts) in runs {
        let req = TemplateRequest {
            chart: path.to_owned(),
            values: opts,
            strict,
            skip_schema_validation,
            ..TemplateRequest::default()
        };
        // The chart is loaded once; each run renders its own copy.
        match render_loaded(chart.clone(), &req, &mut std::io::empty()) {
            Ok(result) => {
                for m in result.manifests.iter().chain(&result.hooks) {
                    manifest_rules(m, &chart, &mut findings);
                }
                match validator.as_mut() {
                    Ok(v) => validation(v, &result, &label, &mut findings),
                    Err(e) => add(
                        &mut findings,
                        Severity::Warning,
                        "templates/",
                        format!("objects not checked against Kubernetes schemas: {e}"),
                    ),
                }
            }
            Err(e) => {
                let location = match &e {
                    TemplateError::Render(_) | TemplateError::Manifest(_) => {
                        "templates/".to_owned()
                    }
                    TemplateError::Compute(_) => "values.yaml".to_owned(),
                    _ => "Chart.yaml".to_owned(),
                };
                add(
                    &mut findings,
                    Severity::Error,
                    &location,
                    format!("with values from {label}: {e}"),
                );
            }
        }
    }
    findings.dedup();
    findings
}

fn chart_yaml_rules(chart: &Chart, findings: &mut Vec<Finding>) {
    let md = &chart.metadata;
    let mut add = |severity, message: String| {
        findings.push(Finding {
            severity,
            location: "Chart.yaml".into(),
            message,
        })
    };
    if md.icon.is_empty() {
        add(Severity::Info, "icon is recommended".into());
    }
    if crate::versions::parse_strict(&md.version).is_err() {
        add(
            Severity::Warning,
            format!(
                "version {:?} is not strict SemVer 2 (MAJOR.MINOR.PATCH)",
                md.version
            ),
        );
    }
    for key in ["version", "appVersion"] {
        if let Some(v) = md.raw.get(key)
            && !matches!(v, Value::String(_))
        {
            add(
                Severity::Error,
                format!(
                    "{key} should be a string, got a {}: quote it",
                    v.type_name()
                ),
            );
        }
    }
    if md.api_version == "v1" {
        add(
            Severity::Info,
            "apiVersion v1 is Helm 2's chart format; use v2 (or pack/v1 for a native chart)".into(),
        );
    }
    for (i, m) in md.maintainers.iter().enumerate() {
        if m.name.is_empty() {
            add(
                Severity::Error,
                format!("maintainers[{i}]: name is required"),
            );
        }
    }
    for dep in &md.dependencies {
        if !chart.dependencies.iter().any(|c| c.name() == dep.name) {
            add(
                Severity::Warning,
                format!(
                    "dependency {:?} is missing from charts/: run `pack dependency build`",
                    dep.name
                ),
            );
        }
    }
}

/// The recommended labels every object should carry.
const RECOMMENDED_LABELS: &[&str] = &["app.kubernetes.io/name", "app.kubernetes.io/instance"];

/// Schema problems of the rendered objects, placed on template lines.
fn validation(
    validator: &mut crate::validate::Validator,
    result: &super::template::TemplateResult,
    label: &str,
    findings: &mut Vec<Finding>,
) {
    use crate::validate::report;
    let docs = result.manifests.iter().chain(&result.hooks);
    let inputs = report::rendered(validator, docs, &result.crds, &result.sources);
    for f in report::check(validator, &inputs) {
        if f.status != report::Status::Invalid {
            continue;
        }
        let rel = f.file.split_once('/').map_or(f.file.as_str(), |(_, r)| r);
        for p in &f.problems {
            let location = if p.line > 0 {
                format!("{rel}:{}", p.line)
            } else {
                rel.to_owned()
            };
            let path = if p.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.path)
            };
            findings.push(Finding {
                severity: Severity::Error,
                location,
                message: format!(
                    "with values from {label}: {}: {path}{} (Kubernetes {})",
                    f.id(),
                    p.message,
                    validator.release()
                ),
            });
        }
    }
}

fn manifest_rules(m: &Manifest, chart: &Chart, findings: &mut Vec<Finding>) {
    let rel = m
        .source
        .split_once('/')
        .map_or(m.source.as_str(), |(_, r)| r);
    let line = chart
        .templates
        .iter()
        .find(|t| t.name == rel)
        .and_then(|t| {
            t.text()
                .lines()
                .position(|l| l.trim_start().starts_with("kind:"))
                .map(|i| i + 1)
        });
    let location = match line {
        Some(l) => format!("{rel}:{l}"),
        None => rel.to_owned(),
    };
    let mut add = |severity, message: String| {
        findings.push(Finding {
            severity,
            location: location.clone(),
            message,
        })
    };
    if m.object.is_null() {
        return;
    }
    let labels = m.object.get_path(["metadata", "labels"]);
    for label in RECOMMENDED_LABELS {
        if labels.and_then(|l| l.get(label)).is_none() {
            add(
                Severity::Info,
                format!(
                    "{} {:?} lacks the recommended label {label}",
                    m.kind, m.name
                ),
            );
        }
    }
}
