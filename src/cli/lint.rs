//! `pack lint CHART…`: finds problems in charts before they are installed.

use super::values_flags::ValuesFlags;
use super::{CliResult, ExitCodeError};
use crate::action::lint::{Severity, lint};
use crate::values::ValueOptions;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Chart directories or archives, REPO/CHART, or chart URLs.
    #[arg(required = true, value_name = "CHART")]
    pub charts: Vec<PathBuf>,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
    /// Fail on warnings too, and treat undefined values in templates as errors.
    #[arg(long)]
    pub strict: bool,
    /// Print only warnings and errors.
    #[arg(long)]
    pub quiet: bool,
    /// Do not check values against the charts' values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
    #[command(flatten)]
    pub values: ValuesFlags,
}

pub fn run(args: &LintArgs) -> CliResult {
    let values = ValueOptions::from(&args.values);
    let mut failed = 0;
    for chart in &args.charts {
        let path = super::package::resolve_chart(chart, &args.source)?;
        let findings = lint(&path, &values, args.strict, args.skip_schema_validation);
        let fails = findings.iter().any(|f| {
            f.severity == Severity::Error || (args.strict && f.severity == Severity::Warning)
        });
        if fails {
            failed += 1;
        }
        let shown: Vec<_> = findings
            .iter()
            .filter(|f| !args.quiet || f.severity > Severity::Info)
            .collect();
        if !args.quiet || !shown.is_empty() {
            println!("==> Linting {}", chart.display());
            for f in shown {
                println!("{f}");
            }
            println!();
        }
    }
    let summary = format!(
        "{} chart(s) linted, {failed} chart(s) failed",
        args.charts.len()
    );
    if failed > 0 {
        return Err(Box::new(ExitCodeError {
            code: super::EXIT_FAILURE,
            message: format!("Error: {summary}"),
        }));
    }
    println!("{summary}");
    Ok(())
}
