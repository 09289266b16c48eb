//! `pack validate [FILE|DIR|-]…`: checks Kubernetes manifests offline against the
//! schemas of the target Kubernetes version.

use super::{CliResult, ExitCodeError};
use crate::k8s::KubeVersion;
use crate::validate::{Validator, report};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One line per problem (`file:line Kind/name: path: message`).
    Text,
    /// A summary and every object with its problems.
    Json,
    /// JUnit XML, one test case per object (for CI test reports).
    Junit,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pack validate deploy/\n  \
                        pack template demo ./chart | pack validate -\n  \
                        pack validate --schema-location crds/ -o junit manifests/ > report.xml")]
pub struct ValidateArgs {
    /// Files or directories of YAML/JSON manifests (`-` reads standard input).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Kubernetes version whose schemas apply (default v1.35.0).
    #[arg(long, value_name = "VERSION", value_parser = KubeVersion::parse)]
    pub kube_version: Option<KubeVersion>,
    /// CRDs (YAML or JSON) or JSON Schema files (`<group>/<kind>_<version>.json`) for
    /// custom resources: a file or a directory (repeatable). CRDs among the checked
    /// manifests are used too.
    #[arg(long, value_name = "DIR|FILE")]
    pub schema_location: Vec<PathBuf>,
    /// Accept fields the schemas do not know.
    #[arg(long)]
    pub no_strict: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// With text output, print only problems (not a line per valid or skipped object).
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: &ValidateArgs) -> CliResult {
    let version = args.kube_version.clone().unwrap_or_default();
    let mut validator = Validator::new(&version, !args.no_strict)?;
    for loc in &args.schema_location {
        let found = crate::validate::crds::from_location(loc, !args.no_strict)?;
        validator.add_schemas(found);
    }
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)?;
    }
    let named: Vec<(String, &str)> = files
        .iter()
        .map(|(name, text)| (name.clone(), text.as_str()))
        .collect();
    let inputs = report::documents_of(&named);
    let findings = report::check(&mut validator, &inputs);
    let s = report::summary(&findings);
    match args.output {
        ReportFormat::Text => print!("{}", report::text(&findings, !args.quiet)),
        ReportFormat::Json => print!("{}", report::json(&findings, validator.release())),
        ReportFormat::Junit => print!("{}", report::junit(&findings)),
    }
    let summary = format!(
        "{} objects: {} valid, {} invalid, {} skipped (Kubernetes {version})",
        s.valid + s.invalid + s.skipped,
        s.valid,
        s.invalid,
        s.skipped
    );
    if s.invalid > 0 {
        return Err(Box::new(ExitCodeError {
            code: super::EXIT_FAILURE,
            message: summary,
        }));
    }
    if args.output == ReportFormat::Text {
        println!("{summary}");
    }
    Ok(())
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
