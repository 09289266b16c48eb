//! `pack show chart|values|readme|crds|all CHART`: what a chart contains, without rendering.

use super::values_flags::ValuesFlags;
use super::{CliResult, Context};
use crate::chart::{self, Chart};
use crate::value::{Value, yaml};
use crate::values::{self as values_mod, ValueOptions};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub what: ShowWhat,
}

#[derive(Debug, Subcommand)]
pub enum ShowWhat {
    /// Print the chart's Chart.yaml.
    Chart(ChartArg),
    /// Print the chart's values.yaml as written, or with --computed the values its
    /// templates would see.
    Values(ValuesArgs),
    /// Print the chart's README.
    Readme(ChartArg),
    /// Print the chart's CRDs (files under crds/, subcharts included).
    Crds(ChartArg),
    /// Print Chart.yaml, values.yaml, the README and the CRDs.
    All(ChartArg),
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// A chart directory or .tgz archive.
    pub chart: PathBuf,
    /// Print the values templates see: chart and subchart defaults coalesced with the
    /// values flags, dependencies processed, schemas checked.
    #[arg(long)]
    pub computed: bool,
    /// With --computed: do not check values against values.schema.json.
    #[arg(long, requires = "computed")]
    pub skip_schema_validation: bool,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
}

#[derive(Debug, Args)]
pub struct ChartArg {
    /// A chart directory or .tgz archive, REPO/CHART, or a chart URL.
    pub chart: PathBuf,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
}

pub fn run(args: &ShowArgs) -> CliResult {
    let (what, path, source) = match &args.what {
        ShowWhat::Chart(a) => ("chart", &a.chart, &a.source),
        ShowWhat::Values(a) if a.computed => return computed(a),
        ShowWhat::Values(a) => ("values", &a.chart, &a.source),
        ShowWhat::Readme(a) => ("readme", &a.chart, &a.source),
        ShowWhat::Crds(a) => ("crds", &a.chart, &a.source),
        ShowWhat::All(a) => ("all", &a.chart, &a.source),
    };
    let path = &super::package::resolve_chart(path, source)?;
    let chart = chart::load(path).context(format!("loading chart {}", path.display()))?;
    // Helm prints each part followed by a newline, parts after the first behind `---`.
    let out = match what {
        "chart" => format!("{}\n", chart_yaml(&chart)),
        "values" => format!("{}\n", values(&chart)),
        "readme" if chart.readme().is_none() => String::new(),
        "readme" => format!("{}\n", readme(&chart)),
        "crds" => crds(&chart),
        _ => {
            let mut out = format!("{}\n", chart_yaml(&chart));
            if chart.values_text.is_some() {
                out.push_str(&format!("---\n{}\n", values(&chart)));
            }
            if chart.readme().is_some() {
                out.push_str(&format!("---\n{}\n", readme(&chart)));
            }
            out.push_str(&crds(&chart));
            out
        }
    };
    print!("{out}");
    Ok(())
}

/// `show values --computed`: the root's `.Values` after coalescing, as YAML; warnings
/// Helm would print go to stderr.
fn computed(args: &ValuesArgs) -> CliResult {
    let path = super::package::resolve_chart(&args.chart, &args.source)?;
    let mut chart =
        chart::load(&path).context(format!("loading chart {}", args.chart.display()))?;
    let user = ValueOptions::from(&args.values)
        .build(chart.engine(), &mut std::io::stdin())
        .context("reading values")?;
    let computed = values_mod::compute(&mut chart, &user, args.skip_schema_validation)
        .context(format!("computing values of chart {}", chart.name()))?;
    for w in &computed.warnings {
        anstream::eprintln!(
            "{}",
            crate::action::template::log_line("INFO", &w.to_string())
        );
    }
    print!("{}", yaml::to_string(&Value::Map(computed.values)));
    Ok(())
}

/// Chart.yaml as Helm prints it: the fields it knows, keys in alphabetical order, in
/// Helm's YAML style.
fn chart_yaml(chart: &Chart) -> String {
    use crate::value::emit::{EmitOptions, emit};
    emit(&chart.metadata.to_value(), &EmitOptions::helm())
}

fn values(chart: &Chart) -> String {
    chart.values_text.clone().unwrap_or_default()
}

fn readme(chart: &Chart) -> String {
    chart
        .readme()
        .map(|f| f.text().into_owned())
        .unwrap_or_default()
}

/// Every CRD document of the chart and its subcharts, each after a `---` line.
fn crds(chart: &Chart) -> String {
    let mut out = String::new();
    collect_crds(chart, &mut out);
    out
}

fn collect_crds(chart: &Chart, out: &mut String) {
    for file in chart.crd_files() {
        out.push_str(&format!("---\n{}\n", file.text()));
    }
    for sub in &chart.dependencies {
        collect_crds(sub, out);
    }
}
