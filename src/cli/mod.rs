//! The command line: Helm's global flags on every command, one reporting path for errors,
//! and thin commands that orchestrate library modules.

mod cluster;
mod completion;
mod create;
mod dependency;
mod env;
mod lint;
mod package;
mod registry;
mod release;
mod report;
mod show;
mod template;
mod validate;
mod values_flags;
mod version;

pub use report::{CliError, CliResult, Context, ExitCodeError};

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit status of a command that worked.
pub const EXIT_OK: u8 = 0;
/// Exit status of a command that failed (the error is printed on stderr).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status when the command line itself is wrong (unknown flag, missing argument).
pub const EXIT_USAGE: u8 = 2;

/// A Kubernetes package manager: Helm charts and releases, faster and safer.
#[derive(Debug, Parser)]
#[command(
    name = "pack",
    version = env!("CARGO_PKG_VERSION"),
    disable_version_flag = true,
    propagate_version = true,
    after_help = "Exit status: 0 success, 1 failure, 2 invalid command line.\n\
                  Environment: PACK_NAMESPACE, PACK_KUBECONTEXT, PACK_DEBUG, PACK_COLOR, \
                  PACK_CACHE_HOME, PACK_CONFIG_HOME, PACK_DATA_HOME, KUBECONFIG, NO_COLOR."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts, with Helm's names.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Name of the kubeconfig context to use.
    #[arg(long, global = true, env = "PACK_KUBECONTEXT", value_name = "NAME")]
    pub kube_context: Option<String>,
    /// Namespace scope for this request.
    #[arg(
        short = 'n',
        long,
        global = true,
        env = crate::settings::ENV_NAMESPACE,
        value_name = "NAME"
    )]
    pub namespace: Option<String>,
    /// Verbose output: request logs and full error details.
    #[arg(long, global = true, env = "PACK_DEBUG")]
    pub debug: bool,
    /// When to use colors.
    #[arg(
        long,
        global = true,
        env = "PACK_COLOR",
        value_enum,
        default_value_t = ColorWhen::Auto,
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
}

impl GlobalArgs {
    /// The namespace to work in: `-n`, `$PACK_NAMESPACE`, else `default`.
    pub fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
    }
}

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Color when writing to a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// Output formats of commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a new native chart with a Deployment, Service, Ingress and more.
    Create(create::CreateArgs),
    /// Render a chart locally and print the manifests.
    Template(template::TemplateArgs),
    /// Check a chart for problems: Chart.yaml, values, templates, names and labels.
    Lint(lint::LintArgs),
    /// Check Kubernetes manifests offline against the schemas of a Kubernetes version.
    Validate(validate::ValidateArgs),
    /// Show a chart's Chart.yaml, values, README or CRDs.
    #[command(visible_alias = "inspect")]
    Show(show::ShowArgs),
    /// Inspect a chart's dependencies.
    #[command(visible_aliases = ["dep", "dependencies"])]
    Dependency(dependency::DependencyArgs),
    /// Package chart directories into reproducible versioned archives.
    Package(package::PackageArgs),
    /// Work with chart repositories: index, add, list, update, remove.
    Repo(package::RepoArgs),
    /// Search the added chart repositories.
    Search(package::SearchArgs),
    /// Download a chart: REPO/CHART, a name with --repo, a chart URL, or oci://….
    #[command(visible_alias = "fetch")]
    Pull(package::PullArgs),
    /// Upload a chart archive to an OCI registry (oci://…) or an HTTP repository
    /// (ChartMuseum API, e.g. `pack repo serve`).
    Push(package::PushArgs),
    /// Log in to or out of OCI registries.
    Registry(registry::RegistryArgs),
    /// Check a chart archive's provenance file (.prov): its signature and the archive's
    /// digest.
    Verify(registry::VerifyArgs),
    /// Install a chart as a release.
    Install(release::InstallArgs),
    /// Upgrade a release to a new chart or new values.
    Upgrade(release::UpgradeArgs),
    /// Show what install, upgrade or rollback would change, as a diff per object.
    Diff(release::DiffArgs),
    /// Roll a release back to an earlier revision.
    Rollback(release::RollbackArgs),
    /// Uninstall a release: its objects, and its history unless --keep-history.
    #[command(visible_aliases = ["un", "delete", "del"])]
    Uninstall(release::UninstallArgs),
    /// Run a release's tests (its `test` hooks).
    Test(release::TestArgs),
    /// Repair a release whose last operation was interrupted (left pending-*).
    Recover(release::RecoverArgs),
    /// List releases.
    #[command(visible_alias = "ls")]
    List(release::ListArgs),
    /// Show a release's revisions.
    #[command(visible_alias = "hist")]
    History(release::HistoryArgs),
    /// Show a release's status and notes.
    Status(release::StatusArgs),
    /// Show a release's manifest, values, notes, hooks or metadata.
    Get(release::GetArgs),
    /// Run the embedded Kubernetes API server (kubectl and helm work against it).
    Cluster(cluster::ClusterArgs),
    /// Print the directories and environment pack uses.
    Env(env::EnvArgs),
    /// Print pack's version and what it is compatible with.
    Version(version::VersionArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(completion::CompletionArgs),
}

/// Runs pack with the process's arguments; the exit status as a number, once everything
/// the command opened has been closed and its output flushed.
pub fn run_status() -> u8 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match parse_narrowed(&args).map_or_else(|| Cli::try_parse_from(&args), Ok) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr.
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    crate::timing::mark("arguments parsed");
    report::set_color(cli.global.color);
    let status = match dispatch(cli) {
        Ok(()) => EXIT_OK,
        Err(e) => report::print_error(e.as_ref()),
    };
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    status
}

/// Commands that work offline and end within a run's worth of milliseconds: the ones that
/// may use [`crate::heap`]'s allocator, which never gives memory back. Not `lint`: it
/// renders once per values file, each render's memory allocated on the render thread and
/// freed on this one, where the render thread cannot reuse it (prometheus's 14 files: 58 MB
/// against mimalloc's 27).
const BRIEF_COMMANDS: &[&str] = &[
    "template",
    "validate",
    "show",
    "inspect",
    "create",
    "version",
    "env",
    "completion",
];

/// True when the command line (without the program name) names one of the brief commands.
/// Global flags may come first; their values are skipped. A wrong answer costs speed only.
pub fn runs_briefly<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    let args: Vec<_> = args.into_iter().collect();
    command_name(&args).is_some_and(|c| BRIEF_COMMANDS.contains(&c))
}

/// The first word of the command line (without the program name) that is not a global flag
/// or its value: the subcommand, when the line is well formed.
fn command_name(args: &[std::ffi::OsString]) -> Option<&str> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.to_str()? {
            "-n" | "--namespace" | "--kubeconfig" | "--kube-context" | "--color" => {
                args.next();
            }
            a if a.starts_with('-') => {}
            command => return Some(command),
        }
    }
    None
}

/// Parses a `template` or `version` command line against a definition holding only that
/// subcommand, `None` for anything else or anything it refuses (help, errors), which the
/// full definition then parses: clap's first parse of all ~30 subcommands, their global
/// flags copied into each, took 0.5 ms of a 1.9 ms `pack template` after a helm run.
fn parse_narrowed(args: &[std::ffi::OsString]) -> Option<Cli> {
    use clap::FromArgMatches as _;
    let sub = match command_name(args.get(1..)?)? {
        "template" => template::TemplateArgs::augment_args(clap::Command::new("template")),
        "version" => version::VersionArgs::augment_args(clap::Command::new("version")),
        _ => return None,
    };
    let narrowed = GlobalArgs::augment_args(clap::Command::new("pack"))
        .subcommand(sub)
        .subcommand_required(true);
    let matches = narrowed.try_get_matches_from(args).ok()?;
    Cli::from_arg_matches(&matches).ok()
}

fn dispatch(cli: Cli) -> CliResult {
    let global = &cli.global;
    match cli.command {
        Command::Version(args) => version::run(&args),
        Command::Env(args) => env::run(&args, global),
        Command::Cluster(args) => cluster::run(&args, global),
        Command::Install(args) => release::install(&args, global),
        Command::Upgrade(args) => release::upgrade(&args, global),
        Command::Rollback(args) => release::rollback(&args, global),
        Command::Diff(args) => release::diff(&args, global),
        Command::Uninstall(args) => release::uninstall(&args, global),
        Command::List(args) => release::list(&args, global),
        Command::Recover(args) => release::recover(&args, global),
        Command::Test(args) => release::test(&args, global),
        Command::History(args) => release::history(&args, global),
        Command::Status(args) => release::status_cmd(&args, global),
        Command::Get(args) => release::get(&args, global),
        Command::Completion(args) => completion::run(&args),
        Command::Create(args) => create::run(&args),
        Command::Package(args) => package::package(&args),
        Command::Repo(args) => package::repo(&args),
        Command::Search(args) => package::search(&args),
        Command::Pull(args) => package::pull(&args),
        Command::Push(args) => package::push(&args),
        Command::Registry(args) => registry::run(&args),
        Command::Verify(args) => registry::verify(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Template(args) => template::run(&args, global),
        Command::Validate(args) => validate::run(&args, global),
        Command::Show(args) => show::run(&args),
        Command::Dependency(args) => dependency::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn brief_commands_are_told_apart_from_long_ones() {
        let brief = |line: &str| runs_briefly(line.split_whitespace().map(Into::into));
        assert!(brief("template r ./chart"));
        assert!(brief("-n team-a --debug template r ./chart"));
        assert!(brief("--color=never validate ./out"));
        assert!(!brief("lint ./chart"));
        assert!(!brief("-n template cluster"));
        assert!(!brief("cluster --port 0"));
        assert!(!brief("install r ./chart"));
        assert!(!brief("--debug"));
        // Every brief command is a command (or alias) clap knows.
        let cli = Cli::command();
        for name in BRIEF_COMMANDS {
            assert!(cli.find_subcommand(name).is_some(), "{name}");
        }
    }

    #[test]
    fn narrowed_parsing_gives_what_the_full_definition_gives() {
        let lines = [
            "pack template r ./chart",
            "pack -n team --debug template r ./chart -f a.yaml -f b.yaml --set x=1,y=2",
            "pack template ./chart --kube-version 1.30.0 -a v1/Foo --show-only templates/a.yaml \
             --include-crds --skip-tests --is-upgrade --release-name --color never",
            "pack --kube-context prod template r ./chart --set-string a=b --set-json c={} \
             --set-file d=e --set-literal f=g --output-dir out --no-hooks --validate",
            "pack version",
            "pack version --short",
        ];
        for line in lines {
            let args: Vec<std::ffi::OsString> = line.split_whitespace().map(Into::into).collect();
            let full = Cli::try_parse_from(&args).expect(line);
            let narrowed = parse_narrowed(&args).expect(line);
            assert_eq!(format!("{narrowed:?}"), format!("{full:?}"), "{line}");
        }
        // Help, errors and other commands go to the full definition.
        for line in [
            "pack template --help",
            "pack template",
            "pack template r ./chart --no-such-flag",
            "pack version --help",
            "pack lint ./chart",
            "pack",
        ] {
            let args: Vec<std::ffi::OsString> = line.split_whitespace().map(Into::into).collect();
            assert!(parse_narrowed(&args).is_none(), "{line}");
        }
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["pack", "env", "-n", "team-a", "--debug"]).unwrap();
        assert_eq!(cli.global.namespace(), "team-a");
        assert!(cli.global.debug);
        let cli = Cli::try_parse_from(["pack", "--kube-context", "prod", "version"]).unwrap();
        assert_eq!(cli.global.kube_context.as_deref(), Some("prod"));
    }
}
