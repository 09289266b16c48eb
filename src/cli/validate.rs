//! `pack validate [FILE|DIR|-]…`: checks Kubernetes manifests offline against the
//! schemas of the target Kubernetes version.

use super::{CliResult, ExitCodeError};
use crate::k8s::KubeVersion;
use crate::validate::{Validator, Verdict};
use crate::value::yaml::{self, Flavor};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pack validate deploy/\n  \
                        pack template demo ./chart | pack validate -")]
pub struct ValidateArgs {
    /// Files or directories of YAML/JSON manifests (`-` reads standard input).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Kubernetes version whose schemas apply (default v1.35.0).
    #[arg(long, value_name = "VERSION", value_parser = KubeVersion::parse)]
    pub kube_version: Option<KubeVersion>,
    /// Accept fields the schemas do not know.
    #[arg(long)]
    pub no_strict: bool,
    /// Print only invalid objects.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: &ValidateArgs) -> CliResult {
    let version = args.kube_version.clone().unwrap_or_default();
    let mut validator = Validator::new(&version, !args.no_strict)?;
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)?;
    }
    let (mut valid, mut invalid, mut skipped) = (0, 0, 0);
    for (name, text) in files {
        let report = check_text(&mut validator, &name, &text);
        for line in &report.lines {
            if !args.quiet || line.starts_with("INVALID") || line.contains(": error") {
                println!("{line}");
            }
        }
        valid += report.valid;
        invalid += report.invalid;
        skipped += report.skipped;
    }
    let summary = format!(
        "{} objects: {valid} valid, {invalid} invalid, {skipped} skipped (Kubernetes {version})",
        valid + invalid + skipped
    );
    if invalid > 0 {
        return Err(Box::new(ExitCodeError {
            code: super::EXIT_FAILURE,
            message: summary,
        }));
    }
    println!("{summary}");
    Ok(())
}

/// Lines to print and the counts for one file.
#[derive(Default)]
pub struct Report {
    /// `file:line kind/name: path: message` lines.
    pub lines: Vec<String>,
    /// Objects that passed.
    pub valid: usize,
    /// Objects with problems (YAML errors included).
    pub invalid: usize,
    /// Custom resources without a schema.
    pub skipped: usize,
}

/// Validates every document of a multi-document YAML/JSON text.
pub fn check_text(validator: &mut Validator, name: &str, text: &str) -> Report {
    let mut report = Report::default();
    for (offset, doc) in crate::manifest::documents(text) {
        if doc.trim().is_empty() {
            continue;
        }
        let lead = doc.len() - doc.trim_start().len();
        let line = text[..offset + lead].matches('\n').count() + 1;
        let obj = match yaml::from_str(doc, Flavor::Yaml11) {
            Ok(v) if v.is_null() => continue,
            Ok(v) => v,
            Err(e) => {
                report.invalid += 1;
                report
                    .lines
                    .push(format!("INVALID {name}:{line}: not valid YAML: {e}"));
                continue;
            }
        };
        let id = format!(
            "{}/{}",
            obj.get("kind").and_then(|k| k.as_str()).unwrap_or("?"),
            obj.get_path(["metadata", "name"])
                .and_then(|n| n.as_str())
                .unwrap_or("?")
        );
        match validator.validate(&obj) {
            Verdict::Valid => {
                report.valid += 1;
                report.lines.push(format!("ok      {name}:{line} {id}"));
            }
            Verdict::Skipped(why) => {
                report.skipped += 1;
                report
                    .lines
                    .push(format!("skipped {name}:{line} {id}: {why}"));
            }
            Verdict::Invalid(problems) => {
                report.invalid += 1;
                for p in problems {
                    let path = if p.path.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", p.path)
                    };
                    report
                        .lines
                        .push(format!("INVALID {name}:{line} {id}: {path}{}", p.message));
                }
            }
        }
    }
    report
}

fn collect(path: &Path, out: &mut Vec<(String, String)>) -> CliResult {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        out.push(("-".into(), text));
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let is_manifest = e
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if e.is_dir() || is_manifest {
                collect(&e, out)?;
            }
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    out.push((path.display().to_string(), text));
    Ok(())
}
