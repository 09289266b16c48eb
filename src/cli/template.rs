//! `pack template [NAME] CHART`: renders a chart locally and prints the manifests, as
//! `helm template` does.

use super::values_flags::ValuesFlags;
use super::{CliResult, GlobalArgs};
use crate::action::{TemplateRequest, render_chart};
use crate::k8s::KubeVersion;
use crate::manifest::{self, Manifest};
use crate::render::ReleaseInfo;
use crate::values::ValueOptions;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pack template demo charts/hello-world\n  \
                        pack template demo ./chart -f prod.yaml --set image.tag=1.2 -s templates/deployment.yaml")]
pub struct TemplateArgs {
    /// Release name, then chart (directory or .tgz). With one argument it is the chart and
    /// the release is called "release-name".
    #[arg(value_name = "NAME_OR_CHART", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Kubernetes version for Capabilities and kubeVersion checks (default v1.35.0).
    #[arg(long, value_name = "VERSION", value_parser = KubeVersion::parse)]
    pub kube_version: Option<KubeVersion>,
    /// Extra Capabilities.APIVersions entries (repeatable or comma-separated).
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION")]
    pub api_versions: Vec<String>,
    /// Only print manifests from these templates (globs like templates/*.yaml).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    pub show_only: Vec<String>,
    /// Print the chart's CRDs (crds/) first.
    #[arg(long)]
    pub include_crds: bool,
    /// Leave out test hooks.
    #[arg(long)]
    pub skip_tests: bool,
    /// Leave out hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Set Release.IsUpgrade instead of Release.IsInstall.
    #[arg(long)]
    pub is_upgrade: bool,
    /// Do not check values against values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
    /// Check every rendered object against the Kubernetes schemas of --kube-version
    /// (unknown fields included) and fail on problems.
    #[arg(long)]
    pub validate: bool,
    /// Write one file per template under this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// With --output-dir: put files under DIR/<release name>/.
    #[arg(long)]
    pub release_name: bool,
    /// A program that receives all rendered documents on standard input and prints the
    /// documents to use instead (kustomize-style patching).
    #[arg(long, value_name = "PATH")]
    pub post_renderer: Option<PathBuf>,
    /// An argument for the post-renderer (repeatable).
    #[arg(
        long = "post-renderer-args",
        value_name = "ARG",
        requires = "post_renderer"
    )]
    pub post_renderer_args: Vec<String>,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
}

pub fn run(args: &TemplateArgs, global: &GlobalArgs) -> CliResult {
    if crate::heap::enabled() {
        // One render, then the process ends: what the render thread would free is left.
        crate::render::worker::forget_discarded();
    }
    let (name, chart) = match args.args.as_slice() {
        [chart] => ("release-name".to_owned(), chart.clone()),
        [name, chart] => (name.clone(), chart.clone()),
        _ => unreachable!("clap allows one or two arguments"),
    };
    let req = TemplateRequest {
        chart: super::package::resolve_chart(&PathBuf::from(&chart), &args.source)?,
        release: ReleaseInfo {
            name: name.clone(),
            namespace: global.namespace().to_owned(),
            revision: 1,
            is_upgrade: args.is_upgrade,
        },
        values: ValueOptions::from(&args.values),
        kube_version: args.kube_version.clone(),
        api_versions: args.api_versions.clone(),
        skip_schema_validation: args.skip_schema_validation,
        strict: false,
        ..TemplateRequest::default()
    };
    let result = match render_chart(&req, &mut std::io::stdin()) {
        Ok(r) => r,
        Err(crate::action::TemplateError::Manifest(e)) if global.debug => {
            // --debug: show the rendered file that is not valid YAML, with line numbers.
            anstream::eprintln!("--- rendered {} ---", e.file);
            for (i, line) in e.rendered.lines().enumerate() {
                anstream::eprintln!("{:>4} | {line}", i + 1);
            }
            return Err(Box::new(e));
        }
        Err(e) => return Err(e.into()),
    };
    for w in &result.warnings {
        anstream::eprintln!("{w}");
    }
    let mut docs: Vec<Manifest> = result.manifests;
    if !args.no_hooks {
        docs.extend(
            result
                .hooks
                .into_iter()
                .filter(|h| !(args.skip_tests && is_test(h))),
        );
    }
    if args.validate {
        validate_documents(
            &docs,
            &result.crds,
            &result.sources,
            args.kube_version.clone().unwrap_or_default(),
        )?;
    }
    if let Some(program) = &args.post_renderer {
        docs = post_render(program, &args.post_renderer_args, &docs)?;
    }
    if !args.show_only.is_empty() {
        docs = select(docs, &args.show_only, &chart)?;
    }
    if let Some(dir) = &args.output_dir {
        let base = if args.release_name {
            dir.join(&name)
        } else {
            dir.clone()
        };
        return write_dir(&base, &docs);
    }
    // Straight to stdout through one small buffer: keda's 0.8 MB took 0.8 ms to gather
    // into one string first (growth copies, fresh pages).
    let written = {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let crds: &[_] = if args.include_crds { &result.crds } else { &[] };
        write_output(&mut w, crds, &docs)
    };
    crate::timing::mark("output written");
    // The process ends after this command: freeing every parsed object one by one would
    // only delay it (a third of a millisecond for keda).
    std::mem::forget(docs);
    match written {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("writing the manifests: {e}").into()),
        Ok(()) => Ok(()),
    }
}

/// The CRDs asked for, then the manifests, as `helm template` prints them.
fn write_output(
    w: &mut impl std::io::Write,
    crds: &[(String, String)],
    docs: &[Manifest],
) -> std::io::Result<()> {
    for (path, text) in crds {
        write!(w, "---\n# Source: {path}\n{text}\n")?;
    }
    manifest::write_documents_to(docs, w)?;
    w.flush()
}

/// Sends every document through the post-renderer and reads its output back: documents
/// keep their `# Source:` line when the program keeps it, are re-sorted in install order,
/// and hooks stay after the other documents.
fn post_render(
    program: &std::path::Path,
    args: &[String],
    docs: &[Manifest],
) -> CliResult<Vec<Manifest>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut input = String::new();
    manifest::write_documents(docs, &mut input);
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting post-renderer {}: {e}", program.display()))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or("post-renderer has no standard input")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("running post-renderer {}: {e}", program.display()))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(format!(
            "post-renderer {} failed ({})",
            program.display(),
            out.status
        )
        .into());
    }
    let text = String::from_utf8(out.stdout).map_err(|_| "post-renderer printed invalid UTF-8")?;
    let file = crate::render::RenderedFile {
        path: "post-renderer".into(),
        content: text,
        native: false,
        template_source: "".into(),
    };
    let (mut manifests, mut hooks) = manifest::split(std::slice::from_ref(&file))?;
    for m in manifests.iter_mut().chain(hooks.iter_mut()) {
        if let Some((source, rest)) = m
            .content
            .strip_prefix("# Source: ")
            .and_then(|r| r.split_once('\n'))
        {
            m.source = source.to_owned();
            m.content = rest.to_owned();
        }
    }
    manifest::sort_install_order(&mut manifests);
    manifest::sort_install_order(&mut hooks);
    manifests.extend(hooks);
    Ok(manifests)
}

/// `--validate`: every problem of every object, as `<template>:<line> Kind/name: path:
/// message`; the chart's CRDs (and rendered ones) check its custom resources.
fn validate_documents(
    docs: &[Manifest],
    crds: &[(String, String)],
    sources: &std::collections::HashMap<String, std::sync::Arc<str>>,
    version: KubeVersion,
) -> CliResult {
    use crate::validate::{Validator, report};
    let mut validator = Validator::new(&version, true)?;
    let inputs = report::rendered(&mut validator, docs, crds, sources);
    let findings = report::check(&mut validator, &inputs);
    let problems = report::invalid_lines(&findings);
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} problem(s) in rendered objects (Kubernetes {version}):\n  {}",
        problems.len(),
        problems.join("\n  ")
    )
    .into())
}

fn is_test(m: &Manifest) -> bool {
    m.hook
        .as_ref()
        .is_some_and(|h| h.events.iter().any(|e| e == "test" || e == "test-success"))
}

/// `--show-only`: globs against the path without the chart name (`templates/x.yaml`).
fn select(docs: Vec<Manifest>, patterns: &[String], chart: &str) -> CliResult<Vec<Manifest>> {
    let mut picked = Vec::new();
    for pattern in patterns {
        let before = picked.len();
        for d in &docs {
            let rel = d
                .source
                .split_once('/')
                .map_or(d.source.as_str(), |(_, r)| r);
            if crate::render::files::glob_match(pattern, rel) {
                picked.push(d.clone());
            }
        }
        if picked.len() == before {
            return Err(format!("could not find template {pattern} in chart {chart}").into());
        }
    }
    Ok(picked)
}

fn write_dir(base: &std::path::Path, docs: &[Manifest]) -> CliResult {
    let mut written: Vec<PathBuf> = Vec::new();
    for d in docs {
        let path = base.join(&d.source);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        let mut text = String::new();
        manifest::write_documents(std::slice::from_ref(d), &mut text);
        let append = written.contains(&path);
        let mut existing = if append {
            std::fs::read_to_string(&path).unwrap_or_default()
        } else {
            String::new()
        };
        existing.push_str(&text);
        std::fs::write(&path, existing).map_err(|e| format!("writing {}: {e}", path.display()))?;
        if !append {
            println!("wrote {}", path.display());
            written.push(path);
        }
    }
    Ok(())
}
