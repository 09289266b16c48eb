//! `pack registry login|logout HOST` (credentials for OCI registries, kept like Docker's
//! config.json) and `pack verify CHART.tgz` (a chart's provenance file against a keyring).

use super::{CliResult, Context};
use crate::repo::oci::{self, credentials::Credential};
use crate::settings::Dirs;
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Check credentials against an OCI registry and store them for push, pull and install.
    Login(LoginArgs),
    /// Forget the stored credentials of an OCI registry.
    Logout(LogoutArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry: HOST[:PORT].
    pub host: String,
    /// User name.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password (prefer --password-stdin: a command line is visible to other users).
    #[arg(short = 'p', long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
    /// Skip TLS certificate checks.
    #[arg(long)]
    pub insecure: bool,
    /// Speak HTTP (not HTTPS) to the registry.
    #[arg(long)]
    pub plain_http: bool,
    /// Trust the CAs in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry: HOST[:PORT].
    pub host: String,
}

pub fn run(args: &RegistryArgs) -> CliResult {
    let dirs = Dirs::from_env();
    match &args.command {
        RegistryCommand::Login(a) => {
            let username = a.username.clone().ok_or(
                "give the user name with --username (and the password with --password-stdin)",
            )?;
            let password = if a.password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from stdin")?;
                s.trim_end_matches(['\n', '\r']).to_owned()
            } else {
                a.password
                    .clone()
                    .ok_or("give the password with --password-stdin (or --password)")?
            };
            if a.password.is_some() {
                anstream::eprintln!(
                    "warning: a password on the command line is visible to other users: prefer --password-stdin"
                );
            }
            let opts = oci::Options {
                plain_http: a.plain_http,
                insecure_skip_tls_verify: a.insecure,
                ca_file: super::package::path_string(a.ca_file.as_ref()),
                ..Default::default()
            };
            oci::login(&dirs, &a.host, Credential { username, password }, &opts)
                .context(format!("logging in to {}", a.host))?;
            anstream::eprintln!("Login Succeeded");
            Ok(())
        }
        RegistryCommand::Logout(a) => {
            if oci::logout(&dirs, &a.host)? {
                anstream::eprintln!("Removing login credentials for {}", a.host);
            } else {
                anstream::eprintln!("Not logged in to {}: nothing to remove", a.host);
            }
            Ok(())
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The chart archive; its provenance file is `<archive>.prov` beside it.
    pub archive: PathBuf,
    /// The public keyring (`gpg --export > pubring.gpg`, binary or armored).
    #[arg(long, value_name = "FILE", default_value_os_t = super::package::default_keyring("pubring.gpg"))]
    pub keyring: PathBuf,
}

pub fn verify(args: &VerifyArgs) -> CliResult {
    if args.archive.is_dir() {
        return Err(format!(
            "{} is a directory: verify checks a packaged chart (.tgz) and its .prov",
            args.archive.display()
        )
        .into());
    }
    let prov = PathBuf::from(format!("{}.prov", args.archive.display()));
    let v = crate::repo::provenance::verify_files(&args.archive, &prov, &args.keyring)?;
    super::package::print_verified(&v);
    Ok(())
}
