//! `pack package CHART...` (chart directories to reproducible `<name>-<version>.tgz`),
//! `pack repo index|add|list|update|remove`, `pack search repo` and `pack pull REPO/CHART`.

use super::{CliResult, Context};
use crate::repo::http::{self, Repository};
use crate::repo::{self, PackageOptions};
use crate::settings::Dirs;
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Chart directories to package.
    #[arg(required = true, value_name = "CHART")]
    pub charts: Vec<PathBuf>,
    /// Directory to write the archives to.
    #[arg(short = 'd', long, default_value = ".", value_name = "DIR")]
    pub destination: PathBuf,
    /// Set the chart's version (Chart.yaml `version`) in the archive.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Set the chart's appVersion in the archive.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Run `dependency update` on each chart first.
    #[arg(short = 'u', long)]
    pub dependency_update: bool,
    /// Sign the archive: write `<archive>.prov` (Helm's provenance file) beside it.
    #[arg(long, requires = "key")]
    pub sign: bool,
    /// With --sign: the signing key, by a part of its user id (name or email).
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// With --sign: the secret keyring (`gpg --export-secret-keys > secring.gpg`, binary or
    /// armored).
    #[arg(long, value_name = "FILE", default_value_os_t = default_keyring("secring.gpg"))]
    pub keyring: PathBuf,
    /// With --sign: a file holding the key's passphrase (`-` reads stdin). The
    /// PACK_KEY_PASSPHRASE environment variable works too.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// `~/.gnupg/<file>`, where Helm looks for keyrings by default.
pub fn default_keyring(file: &str) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".gnupg")
        .join(file)
}

/// The signing key's passphrase: from --passphrase-file (`-`: stdin), else
/// PACK_KEY_PASSPHRASE, else none.
fn passphrase(
    file: Option<&std::path::Path>,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let text = match file {
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        Some(p) => std::fs::read_to_string(p).context(format!("reading {}", p.display()))?,
        None => match std::env::var("PACK_KEY_PASSPHRASE") {
            Ok(s) => s,
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
}

pub fn package(args: &PackageArgs) -> CliResult {
    let opts = PackageOptions {
        destination: args.destination.clone(),
        version: args.version.clone(),
        app_version: args.app_version.clone(),
        mtime: None,
    };
    let dirs = Dirs::from_env();
    // Read once (stdin can be read only once), before anything is written.
    let pass = if args.sign {
        passphrase(args.passphrase_file.as_deref())?
    } else {
        None
    };
    for chart in &args.charts {
        if args.dependency_update && chart.is_dir() {
            let mut progress = |line: &str| println!("{line}");
            let mut o = repo::dependency::Options {
                dirs: &dirs,
                skip_refresh: false,
                progress: &mut progress,
                oci: Default::default(),
                verify: None,
            };
            repo::dependency::update(chart, &mut o)
                .context(format!("updating the dependencies of {}", chart.display()))?;
        }
        let p = repo::package(chart, &opts).context(format!("packaging {}", chart.display()))?;
        if args.sign {
            let key = args.key.as_deref().unwrap_or_default();
            let bytes = std::fs::read(&p.path).context(format!("reading {}", p.path.display()))?;
            let name = p
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let signed = repo::provenance::sign(&bytes, &name, key, &args.keyring, pass.as_deref());
            let prov = match signed {
                Ok(prov) => prov,
                Err(e) => {
                    // No unsigned archive is left behind by a failed --sign.
                    let _ = std::fs::remove_file(&p.path);
                    return Err(e).context(format!("signing {}", p.path.display()));
                }
            };
            let prov_path = PathBuf::from(format!("{}.prov", p.path.display()));
            repo::package::write_atomic(&prov_path, prov.as_bytes())?;
        }
        println!(
            "Successfully packaged chart and saved it to: {}",
            p.path.display()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Write DIR/index.yaml for the chart archives in DIR and its subdirectories.
    Index(IndexArgs),
    /// Add a chart repository (its index is fetched to check it).
    Add(AddArgs),
    /// List the chart repositories.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Fetch the latest indexes of the repositories (all, or those named).
    #[command(visible_alias = "up")]
    Update(UpdateArgs),
    /// Remove chart repositories.
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
    /// Serve a directory of charts as a repository (ChartMuseum's API: index, downloads,
    /// uploads, deletes).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory holding the chart archives.
    #[arg(long, value_name = "DIR")]
    pub storage: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
    /// `user:password` allowed to upload and delete (repeatable); without it (or
    /// --htpasswd) anyone may.
    #[arg(long, value_name = "USER:PASSWORD")]
    pub auth: Vec<String>,
    /// An htpasswd file of users allowed to upload and delete (bcrypt or {SHA} hashes).
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// Let an upload replace an existing version.
    #[arg(long)]
    pub allow_overwrite: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The chart archive to upload (its .prov beside it goes too).
    pub archive: PathBuf,
    /// Where to: `oci://HOST/PATH` (the chart lands at PATH/NAME:VERSION), or an HTTP
    /// repository's URL (ChartMuseum API, as `pack repo serve` speaks).
    pub url: String,
    /// Basic-auth user name.
    #[arg(long)]
    pub username: Option<String>,
    /// Basic-auth password.
    #[arg(long)]
    pub password: Option<String>,
    /// Replace the version if the repository has it (HTTP repositories).
    #[arg(long)]
    pub force: bool,
    /// Skip TLS certificate checks.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Speak HTTP (not HTTPS) to an oci:// registry.
    #[arg(long)]
    pub plain_http: bool,
    /// Trust the CAs in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

pub fn push(args: &PushArgs) -> CliResult {
    if args.url.starts_with("oci://") {
        let opts = repo::oci::Options {
            plain_http: args.plain_http,
            insecure_skip_tls_verify: args.insecure_skip_tls_verify,
            ca_file: path_string(args.ca_file.as_ref()),
            username: args.username.clone().unwrap_or_default(),
            password: args.password.clone().unwrap_or_default(),
        };
        let pushed = repo::oci::push(&Dirs::from_env(), &args.archive, &args.url, &opts)?;
        // Helm writes these to stderr, leaving stdout empty.
        anstream::eprintln!("Pushed: {}\nDigest: {}", pushed.reference, pushed.digest);
        if pushed.plus_replaced {
            plus_notice(&pushed.reference);
        }
        return Ok(());
    }
    let digest = http::push(
        &args.archive,
        &args.url,
        args.username.as_deref().unwrap_or(""),
        args.password.as_deref().unwrap_or(""),
        args.force,
        args.insecure_skip_tls_verify,
    )?;
    println!(
        "Pushed: {}\nDigest: sha256:{digest}",
        args.archive.display()
    );
    Ok(())
}

fn serve(a: &ServeArgs) -> CliResult {
    let mut users = Vec::new();
    for u in &a.auth {
        let (user, pass) = u
            .split_once(':')
            .ok_or_else(|| format!("--auth takes USER:PASSWORD, got {u:?}"))?;
        users.push(repo::serve::Credential::Plain(
            user.to_owned(),
            pass.to_owned(),
        ));
    }
    if let Some(file) = &a.htpasswd {
        let text = std::fs::read_to_string(file).context(format!("reading {}", file.display()))?;
        users.extend(repo::serve::read_htpasswd(
            &text,
            &file.display().to_string(),
        )?);
    }
    let config = repo::serve::ServeConfig {
        storage: a.storage.clone(),
        addr: std::net::SocketAddr::new(a.address, a.port),
        users,
        allow_overwrite: a.allow_overwrite,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let running = repo::serve::start(config).await?;
        // A closed stdout (a supervisor that read the address and left) must not stop the
        // server, so write errors are ignored rather than panicking as println! would.
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "pack chart repository listening on http://{}\nstorage: {}",
                running.addr,
                a.storage.display()
            );
            let _ = out.flush();
        }
        super::cluster::wait_for_signal().await;
        running.stop().await;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    })?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Name to refer to the repository by (`NAME/chart`).
    pub name: String,
    /// The repository's URL.
    pub url: String,
    /// Basic-auth user name.
    #[arg(long)]
    pub username: Option<String>,
    /// Basic-auth password.
    #[arg(long)]
    pub password: Option<String>,
    /// Read the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
    /// Trust the CAs in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Skip TLS certificate checks.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Send the credentials to chart URLs on other hosts too.
    #[arg(long)]
    pub pass_credentials: bool,
    /// Replace a repository of the same name.
    #[arg(long)]
    pub force_update: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = super::OutputFormat::Table)]
    pub output: super::OutputFormat,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Repositories to update (default: all).
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Repositories to remove.
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(subcommand)]
    pub command: SearchCommand,
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Search the added repositories' indexes for charts.
    Repo(SearchRepoArgs),
}

#[derive(Debug, Args)]
pub struct SearchRepoArgs {
    /// A word to look for in chart names, descriptions and keywords (all charts when absent).
    pub keyword: Option<String>,
    /// Show every version, not only the newest.
    #[arg(short = 'l', long)]
    pub versions: bool,
    /// A version constraint (`^1.2`, `>=2.0.0`).
    #[arg(long, value_name = "CONSTRAINT")]
    pub version: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = super::OutputFormat::Table)]
    pub output: super::OutputFormat,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// REPO/CHART of an added repository, a chart name with --repo, a chart URL, or an
    /// oci://HOST/PATH/CHART reference.
    pub chart: String,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    /// Directory to save the chart to.
    #[arg(short = 'd', long, default_value = ".", value_name = "DIR")]
    pub destination: PathBuf,
    /// Unpack the chart into the destination.
    #[arg(long)]
    pub untar: bool,
    /// Download the provenance file (.prov) too, without verifying it.
    #[arg(long)]
    pub prov: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The directory holding the chart archives.
    pub dir: PathBuf,
    /// URL of the repository (archive URLs are this joined with their path under DIR).
    #[arg(long, default_value = "", value_name = "URL")]
    pub url: String,
    /// Keep the entries of this existing index that DIR does not have.
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,
    /// Write the index as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn repo(args: &RepoArgs) -> CliResult {
    let dirs = Dirs::from_env();
    match &args.command {
        RepoCommand::Index(a) => index(a),
        RepoCommand::Serve(a) => serve(a),
        RepoCommand::Add(a) => {
            let mut password = a.password.clone().unwrap_or_default();
            if a.password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                password = s.trim_end_matches(['\n', '\r']).to_owned();
            }
            let repo = Repository {
                name: a.name.clone(),
                url: a.url.trim_end_matches('/').to_owned(),
                username: a.username.clone().unwrap_or_default(),
                password,
                ca_file: a
                    .ca_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                insecure_skip_tls_verify: a.insecure_skip_tls_verify,
                pass_credentials_all: a.pass_credentials,
            };
            http::add(&dirs, repo, a.force_update)?;
            println!("\"{}\" has been added to your repositories", a.name);
            Ok(())
        }
        RepoCommand::List(a) => {
            let file = http::RepoFile::load(&dirs.repository_config())?;
            if file.repositories.is_empty() {
                return Err("no repositories to show".into());
            }
            match a.output {
                super::OutputFormat::Table => {
                    let w = file
                        .repositories
                        .iter()
                        .map(|r| r.name.len())
                        .max()
                        .unwrap_or(4)
                        .max(4);
                    println!("{:<w$}\tURL", "NAME");
                    for r in &file.repositories {
                        println!("{:<w$}\t{}", r.name, r.url);
                    }
                }
                other => {
                    let rows: Vec<serde_json::Value> = file
                        .repositories
                        .iter()
                        .map(|r| serde_json::json!({"name": r.name, "url": r.url}))
                        .collect();
                    print_rows(&rows, other)?;
                }
            }
            Ok(())
        }
        RepoCommand::Update(a) => {
            let results = http::update(&dirs, &a.names)?;
            if results.is_empty() {
                return Err("no repositories found: add one with `pack repo add NAME URL`".into());
            }
            let mut failed = 0;
            for (name, r) in results {
                match r {
                    Ok(()) => println!(
                        "...Successfully got an update from the \"{name}\" chart repository"
                    ),
                    Err(e) => {
                        failed += 1;
                        anstream::eprintln!(
                            "...Unable to get an update from the \"{name}\" chart repository: {e}"
                        );
                    }
                }
            }
            if failed > 0 {
                return Err(format!("{failed} repositories could not be updated").into());
            }
            println!("Update Complete. ⎈Happy Helming!⎈");
            Ok(())
        }
        RepoCommand::Remove(a) => {
            http::remove(&dirs, &a.names)?;
            for n in &a.names {
                println!("\"{n}\" has been removed from your repositories");
            }
            Ok(())
        }
    }
}

fn print_rows(rows: &[serde_json::Value], format: super::OutputFormat) -> CliResult {
    match format {
        super::OutputFormat::Json => println!("{}", serde_json::to_string(rows)?),
        _ => {
            let v = crate::value::Value::from(serde_json::Value::Array(rows.to_vec()));
            print!("{}", crate::value::yaml::to_string(&v));
        }
    }
    Ok(())
}

pub fn search(args: &SearchArgs) -> CliResult {
    let SearchCommand::Repo(a) = &args.command;
    let dirs = Dirs::from_env();
    let rows = http::search(
        &dirs,
        a.keyword.as_deref().unwrap_or(""),
        a.versions,
        a.version.as_deref().unwrap_or(""),
    )?;
    match a.output {
        super::OutputFormat::Table => {
            if rows.is_empty() {
                println!("No results found");
                return Ok(());
            }
            let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
            println!(
                "{:<w$}\t{:<13}\t{:<11}\tDESCRIPTION",
                "NAME", "CHART VERSION", "APP VERSION"
            );
            for r in &rows {
                println!(
                    "{:<w$}\t{:<13}\t{:<11}\t{}",
                    r.name, r.version, r.app_version, r.description
                );
            }
        }
        other => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| serde_json::json!({"name": r.name, "version": r.version, "app_version": r.app_version, "description": r.description}))
                .collect();
            print_rows(&rows, other)?;
        }
    }
    Ok(())
}

pub fn pull(args: &PullArgs) -> CliResult {
    let dirs = Dirs::from_env();
    args.source.check_for(&args.chart)?;
    let mut lookup = args.source.lookup();
    lookup.provenance |= args.prov;
    let got = http::fetch_reference(&dirs, &args.chart, &lookup)?.ok_or_else(|| {
        format!(
            "{:?} is not a chart of an added repository (REPO/CHART), a chart URL, or a name with --repo URL",
            args.chart
        )
    })?;
    if let Some((reference, digest)) = &got.pulled_from {
        print_pulled(reference, digest);
    }
    let verified = args.source.verify_fetched(&got)?;
    let (bytes, name) = (got.bytes, got.file_name);
    // Nothing is saved or unpacked that the safe archive loader refuses: no path escapes,
    // links, devices, or expansion past the size limits.
    let chart = crate::chart::load_archive_bytes(&bytes, &name)
        .map_err(|e| format!("{}: refusing the downloaded archive: {e}", args.chart))?;
    std::fs::create_dir_all(&args.destination)
        .context(format!("creating {}", args.destination.display()))?;
    if args.untar {
        let target = args.destination.join(chart.name());
        if target.exists() {
            return Err(format!(
                "{} already exists: remove it or pull elsewhere",
                target.display()
            )
            .into());
        }
        let archive = crate::chart::archive::read_chart_archive_bytes(&bytes, &Default::default())
            .context(format!("reading {name}"))?;
        for f in archive {
            let path = target.join(&f.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, &f.data).context(format!("writing {}", path.display()))?;
        }
    } else {
        let path = args.destination.join(&name);
        std::fs::write(&path, &bytes).context(format!("writing {}", path.display()))?;
    }
    // Helm keeps the provenance file beside the archive when it verified or was asked to.
    if let Some(prov) = got
        .provenance
        .as_ref()
        .filter(|_| args.prov || args.source.verify)
    {
        let path = args.destination.join(format!("{name}.prov"));
        std::fs::write(&path, prov).context(format!("writing {}", path.display()))?;
    }
    if let Some(v) = verified {
        print_verified(&v);
    }
    Ok(())
}

/// Helm's notice when a chart version's `+` is stored as `_` in a registry tag.
fn plus_notice(reference: &str) {
    anstream::eprintln!(
        "{reference} contains an underscore.\n\nOCI artifact references (e.g. tags) do not support the plus sign (+). To support\nstoring semantic versions, Helm adopts the convention of changing plus (+) to\nan underscore (_) in chart version tags when pushing to a registry and back to\na plus (+) when pulling from a registry."
    );
}

/// What Helm prints (to stderr) after pulling a chart from a registry.
fn print_pulled(reference: &str, digest: &str) {
    anstream::eprintln!("Pulled: {reference}\nDigest: {digest}");
    if reference
        .rsplit(':')
        .next()
        .is_some_and(|tag| tag.contains('_'))
    {
        plus_notice(reference);
    }
}

/// Helm's report of a good signature.
pub fn print_verified(v: &repo::provenance::Verified) {
    for who in &v.signed_by {
        println!("Signed by: {who}");
    }
    println!("Using Key With Fingerprint: {}", v.fingerprint);
    println!("Chart Hash Verified: {}", v.file_hash);
}

pub(super) fn path_string(p: Option<&PathBuf>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_default()
}

/// Where a chart argument may come from besides a local path (Helm's flags).
#[derive(Debug, Args, Clone, Default)]
pub struct ChartSourceFlags {
    /// Version constraint for a chart from a repository or registry (default: the latest
    /// stable).
    #[arg(long = "version", value_name = "CONSTRAINT")]
    pub chart_version: Option<String>,
    /// Find the chart in the repository at this URL (no `repo add` needed).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// For --repo or an oci:// chart: user name (an oci:// registry otherwise uses the
    /// credentials of `pack registry login`).
    #[arg(long)]
    pub username: Option<String>,
    /// For --repo or an oci:// chart: password.
    #[arg(long)]
    pub password: Option<String>,
    /// Consider pre-release versions when no --version is given.
    #[arg(long)]
    pub devel: bool,
    /// For --repo or an oci:// chart: a CA bundle to trust for its TLS certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// For --repo or an oci:// chart: skip TLS certificate checks.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// With --repo: send the credentials to chart URLs on other hosts too.
    #[arg(long, requires = "repo")]
    pub pass_credentials: bool,
    /// Speak HTTP (not HTTPS) to an oci:// registry.
    #[arg(long)]
    pub plain_http: bool,
    /// Check the chart's provenance file (.prov) against --keyring before using it.
    #[arg(long)]
    pub verify: bool,
    /// The public keyring for --verify (`gpg --export > pubring.gpg`, binary or armored).
    #[arg(long, value_name = "FILE", default_value_os_t = default_keyring("pubring.gpg"))]
    pub keyring: PathBuf,
}

impl ChartSourceFlags {
    /// Credentials and TLS flags name where they go: a usage error when the chart is
    /// neither in `--repo` nor in an OCI registry.
    fn check_for(&self, chart: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let given = self.username.is_some()
            || self.password.is_some()
            || self.ca_file.is_some()
            || self.insecure_skip_tls_verify;
        if given && self.repo.is_none() && !chart.starts_with("oci://") {
            return Err(Box::new(super::ExitCodeError {
                code: super::EXIT_USAGE,
                message: format!(
                    "Error: --username, --password, --ca-file and --insecure-skip-tls-verify apply to a chart from --repo URL or oci://…, not to {chart:?}"
                ),
            }));
        }
        Ok(())
    }

    fn lookup(&self) -> http::Lookup {
        http::Lookup {
            version: self.chart_version.clone().unwrap_or_default(),
            devel: self.devel,
            repo_url: self.repo.clone().unwrap_or_default(),
            username: self.username.clone().unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
            ca_file: path_string(self.ca_file.as_ref()),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            pass_credentials: self.pass_credentials,
            plain_http: self.plain_http,
            provenance: self.verify,
        }
    }

    /// With --verify: the fetched chart's provenance, checked against the keyring.
    fn verify_fetched(
        &self,
        got: &http::Fetched,
    ) -> Result<Option<repo::provenance::Verified>, Box<dyn std::error::Error + Send + Sync>> {
        if !self.verify {
            return Ok(None);
        }
        let prov = got.provenance.as_deref().ok_or_else(|| {
            format!(
                "{}: the source offers no provenance file, so --verify cannot check it",
                got.file_name
            )
        })?;
        let v = repo::provenance::verify(&got.bytes, &got.file_name, prov, &self.keyring)?;
        Ok(Some(v))
    }
}

/// A chart argument as a path: itself when it is local, else the archive it names
/// (`REPO/CHART`, `--repo URL` + name, a chart URL, or `oci://…`) downloaded into the
/// cache. With --verify the archive's provenance is checked first (a local archive's
/// `.prov` beside it).
pub fn resolve_chart(
    chart: &std::path::Path,
    source: &ChartSourceFlags,
) -> Result<PathBuf, Box<dyn std::error::Error + Send + Sync>> {
    source.check_for(&chart.to_string_lossy())?;
    let dirs = Dirs::from_env();
    let Some(got) = http::fetch_reference(&dirs, &chart.to_string_lossy(), &source.lookup())?
    else {
        if source.verify {
            if chart.is_dir() {
                return Err(format!(
                    "{}: --verify checks a packaged chart's provenance; a directory has none",
                    chart.display()
                )
                .into());
            }
            let prov = PathBuf::from(format!("{}.prov", chart.display()));
            repo::provenance::verify_files(chart, &prov, &source.keyring)?;
        }
        return Ok(chart.to_path_buf());
    };
    if let Some((reference, digest)) = &got.pulled_from {
        print_pulled(reference, digest);
    }
    source.verify_fetched(&got)?;
    let dir = dirs.repository_cache().join("charts");
    std::fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    let path = dir.join(&got.file_name);
    repo::package::write_atomic(&path, &got.bytes)?;
    Ok(path)
}

fn index(args: &IndexArgs) -> CliResult {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a directory", args.dir.display()).into());
    }
    let (index, skipped) = repo::index_dir(&args.dir, &args.url, args.merge.as_deref())
        .context(format!("indexing {}", args.dir.display()))?;
    for s in &skipped {
        anstream::eprintln!("warning: skipping {}: {}", s.path, s.reason);
    }
    repo::index::write(&index, &args.dir, args.json)
        .context(format!("writing {}/index.yaml", args.dir.display()))?;
    Ok(())
}
