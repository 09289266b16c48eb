//! `pack dependency list|update|build CHART`: the dependencies Chart.yaml declares and
//! whether `charts/` has them; fetching them into `charts/` and keeping `Chart.lock`.

use super::{CliResult, Context};
use crate::chart::{self, Chart, Dependency};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

#[derive(Debug, Subcommand)]
pub enum DependencyCommand {
    /// List the chart's dependencies and their status in charts/.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Resolve Chart.yaml's version constraints afresh, download the charts into charts/
    /// and write Chart.lock.
    #[command(visible_alias = "up")]
    Update(FetchArgs),
    /// Download exactly the versions Chart.lock names into charts/ (without a lock, the
    /// same as update).
    Build(FetchArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// A chart directory.
    #[arg(default_value = ".")]
    pub chart: PathBuf,
    /// Use the cached repository indexes instead of fetching them first.
    #[arg(long)]
    pub skip_refresh: bool,
    /// Speak HTTP (not HTTPS) to oci:// registries.
    #[arg(long)]
    pub plain_http: bool,
    /// Check each downloaded chart's provenance file (.prov) against --keyring; nothing in
    /// charts/ changes unless all pass. (file:// and vendored charts are not signed.)
    #[arg(long)]
    pub verify: bool,
    /// The public keyring for --verify (binary or armored).
    #[arg(long, value_name = "FILE", default_value_os_t = super::package::default_keyring("pubring.gpg"))]
    pub keyring: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A chart directory or .tgz archive.
    pub chart: PathBuf,
}

pub fn run(args: &DependencyArgs) -> CliResult {
    match &args.command {
        DependencyCommand::List(a) => list(a),
        DependencyCommand::Update(a) => fetch(a, false),
        DependencyCommand::Build(a) => fetch(a, true),
    }
}

fn fetch(args: &FetchArgs, build: bool) -> CliResult {
    if !args.chart.is_dir() {
        return Err(format!(
            "{} is not a chart directory: dependencies are fetched into a directory's charts/",
            args.chart.display()
        )
        .into());
    }
    let dirs = crate::settings::Dirs::from_env();
    let mut progress = |line: &str| println!("{line}");
    let mut opts = crate::repo::dependency::Options {
        dirs: &dirs,
        skip_refresh: args.skip_refresh,
        progress: &mut progress,
        oci: crate::repo::oci::Options {
            plain_http: args.plain_http,
            ..Default::default()
        },
        verify: args.verify.then(|| args.keyring.clone()),
    };
    let what = if build { "building" } else { "updating" };
    let run = if build {
        crate::repo::dependency::build
    } else {
        crate::repo::dependency::update
    };
    match run(&args.chart, &mut opts).context(format!(
        "{what} the dependencies of {}",
        args.chart.display()
    ))? {
        None => println!(
            "{} declares no dependencies: nothing to do",
            args.chart.join("Chart.yaml").display()
        ),
        Some(o) if o.lock_written => println!(
            "Wrote {} ({} dependencies)",
            args.chart.join("Chart.lock").display(),
            o.lock.dependencies.len()
        ),
        Some(_) => {}
    }
    Ok(())
}

fn list(args: &ListArgs) -> CliResult {
    let chart =
        chart::load(&args.chart).context(format!("loading chart {}", args.chart.display()))?;
    if chart.metadata.dependencies.is_empty() {
        println!(
            "WARNING: no dependencies at {}",
            clean(&args.chart.join("charts")).display()
        );
        return Ok(());
    }
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "REPOSITORY".to_owned(),
        "STATUS".to_owned(),
    ]];
    for dep in &chart.metadata.dependencies {
        rows.push([
            dep.name.clone(),
            dep.version.clone(),
            dep.repository.clone(),
            status(&chart, dep).to_owned(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Helm's statuses: an archive `charts/<name>-<version>.tgz` gives `ok` (or `misnamed`,
/// `wrong version`, `invalid version`; several strict-SemVer matches give `too many
/// matches`); otherwise a loaded subchart of that name gives `unpacked` (or a version
/// problem); otherwise `missing`.
pub fn status(chart: &Chart, dep: &Dependency) -> &'static str {
    let version_status = |c: &Chart, found: &'static str| -> &'static str {
        if c.metadata.version == dep.version {
            return found;
        }
        let Ok(cons) = crate::versions::Constraints::parse(&dep.version) else {
            return "invalid version";
        };
        match cons.matches_str(&c.metadata.version) {
            Ok(true) => found,
            Ok(false) => "wrong version",
            Err(_) => "invalid version",
        }
    };
    let prefix = format!("{}-", dep.name);
    let archives: Vec<(&Chart, &str)> = chart
        .dependencies
        .iter()
        .filter_map(|c| {
            let file = c.origin.rsplit('/').next()?;
            let stem = file.strip_suffix(".tgz")?.strip_prefix(&prefix)?;
            c.origin
                .ends_with(&format!("/charts/{file}"))
                .then_some((c, stem))
        })
        .collect();
    let candidates: Vec<&Chart> = match archives.as_slice() {
        [(one, _)] => vec![*one],
        [] => vec![],
        many => many
            .iter()
            .filter(|(_, v)| crate::versions::parse_strict(v).is_ok())
            .map(|(c, _)| *c)
            .collect(),
    };
    match candidates.as_slice() {
        [one] if one.name() != dep.name => return "misnamed",
        [one] => return version_status(one, "ok"),
        [_, _, ..] => return "too many matches",
        [] => {}
    }
    match chart.dependencies.iter().rfind(|c| c.name() == dep.name) {
        Some(c) => version_status(c, "unpacked"),
        None => "missing",
    }
}

/// The path with `.` and `..` resolved lexically, as Go's `filepath.Join` prints it.
fn clean(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Columns padded to their widest cell and separated by tabs, like Helm's tables.
fn table(rows: &[[String; 4]]) -> String {
    let mut widths = [0usize; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out.push('\n');
    out
}
