//! `pack cluster`: run the embedded Kubernetes API server.

use super::{CliResult, Context, GlobalArgs};
use crate::apiserver::{self, Config};
use crate::k8s::KubeVersion;
use crate::settings::Dirs;
use clap::{Args, Subcommand};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Serve the embedded Kubernetes API on 127.0.0.1 until Ctrl-C (kubectl and helm work
    /// against it through DIR/kubeconfig).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where objects are kept (default: pack's data directory, `cluster/`).
    #[arg(long, value_name = "DIR", conflicts_with = "memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory: nothing survives the server.
    #[arg(long)]
    pub memory: bool,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
    pub address: IpAddr,
    /// Kubernetes version to serve (1.31–1.37).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Simulated nodes of a new cluster (DaemonSets run a pod on each).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub nodes: usize,
}

pub fn run(args: &ClusterArgs, global: &GlobalArgs) -> CliResult {
    match &args.command {
        ClusterCommand::Serve(serve) => run_serve(serve, global),
    }
}

fn run_serve(args: &ServeArgs, global: &GlobalArgs) -> CliResult {
    let kube_version = match &args.kube_version {
        Some(v) => KubeVersion::parse(v)?,
        None => KubeVersion::default(),
    };
    crate::k8s::Schemas::for_version(&kube_version)?;
    let data_dir = if args.memory {
        None
    } else {
        Some(
            args.data_dir
                .clone()
                .unwrap_or_else(|| Dirs::from_env().cluster_data()),
        )
    };
    let config = Config {
        data_dir: data_dir.clone(),
        addr: SocketAddr::new(args.address, args.port),
        kube_version,
        log_requests: global.debug,
        nodes: args.nodes,
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let running = apiserver::start(config).await?;
        let url = running.url();
        // A closed stdout (a caller that read the first line and left) must not stop the
        // server: write once and ignore errors.
        let banner = match &data_dir {
            Some(dir) => format!(
                "pack API server listening on {url}\ndata: {}\nkubeconfig: {}\nstop with Ctrl-C\n",
                dir.display(),
                dir.join("kubeconfig").display()
            ),
            None => format!("pack API server listening on {url} (in memory)\nstop with Ctrl-C\n"),
        };
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(banner.as_bytes());
            let _ = out.flush();
        }
        wait_for_signal().await;
        {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "stopping");
        }
        running.stop().await;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    })?;
    Ok(())
}

#[cfg(unix)]
pub(super) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
pub(super) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
