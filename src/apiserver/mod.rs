//! The embedded Kubernetes API server: the offline default cluster and the test bed for
//! every cluster feature. Real `kubectl`, `helm` and kube-rs talk to it over HTTP.
//!
//! Layout: `route` (URLs) → `http` (hyper, content types) → `handlers` (CRUD, lists,
//! deletes, CRDs) / `watch` / `discovery` (+ OpenAPI), over `store` (memory + redb,
//! group commit, revision log) and `resources` (what is served). `meta` and `defaults`
//! are what the server sets on objects; `protobuf` decodes the bodies client-go sends.

pub mod controller;
pub mod defaults;
pub mod discovery;
pub mod fieldcheck;
pub mod handlers;
pub mod http;
pub mod meta;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod route;
pub mod selector;
pub mod status;
pub mod store;
pub mod watch;

use crate::k8s::KubeVersion;
use resources::Registry;
use serde_json::Value as Json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use store::{Durability, Key, Store};

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory (`store.redb`, `kubeconfig`, `server.json`); `None` keeps everything
    /// in memory.
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free one).
    pub addr: SocketAddr,
    /// Kubernetes version to serve.
    pub kube_version: KubeVersion,
    /// How many revisions watches can resume from.
    pub history: usize,
    /// Log one line per request on stderr.
    pub log_requests: bool,
    /// Run the built-in workload controller (Deployments roll out, Jobs complete…).
    pub simulate: bool,
    /// How many simulated nodes a new cluster gets (DaemonSets run one pod on each).
    pub nodes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            kube_version: KubeVersion::default(),
            history: store::DEFAULT_HISTORY,
            log_requests: false,
            simulate: true,
            nodes: 1,
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory belongs to a running server.
    #[error("the data directory {dir} is in use by another pack server{}", addr.as_ref().map(|a| format!(" (listening on {a})")).unwrap_or_default())]
    InUse {
        /// The directory.
        dir: PathBuf,
        /// Where that server listens, when it says so in `server.json`.
        addr: Option<String>,
    },
    /// Storage failed to open.
    #[error("opening the store in {dir}: {source}")]
    Store {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: store::DiskError,
    },
    /// The address could not be bound.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Anything else (files, runtime).
    #[error("{0}")]
    Other(String),
}

/// State shared by every request.
pub struct Shared {
    /// Objects.
    pub store: Store,
    /// What is served now (built-ins plus established CRDs).
    pub registry: Arc<RwLock<Arc<Registry>>>,
    /// The version `/version` reports.
    pub kube_version: KubeVersion,
    /// One line per request on stderr.
    pub log_requests: bool,
    /// Flips to true when the server stops (watches end).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// OpenAPI documents built so far.
    pub openapi: discovery::OpenApiCache,
}

impl Shared {
    /// The current registry.
    pub fn registry(&self) -> Arc<Registry> {
        match self.registry.read() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// The storage key of CRDs, watched to keep the registry current.
pub const CRD_STORAGE: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// Namespaces every cluster has.
const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

fn rebuild_registry(base: &Registry, state: &store::State) -> Registry {
    let mut registry = base.clone();
    for (_, crd) in state.range(CRD_STORAGE, None, None) {
        if crd.value()["metadata"].get("deletionTimestamp").is_none() {
            registry.add_crd(&crd.value());
        }
    }
    registry
}

/// Opens the store for a config and wires the registry to CRD changes.
pub fn open_shared(
    config: &Config,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<Arc<Shared>, StartError> {
    let base = Registry::builtin(&config.kube_version);
    let registry = Arc::new(RwLock::new(Arc::new(base.clone())));
    let hook_registry = registry.clone();
    let hook_base = base.clone();
    let hook: store::CommitHook = Box::new(move |state, events| {
        if events.iter().any(|e| e.key.storage == CRD_STORAGE) {
            let fresh = Arc::new(rebuild_registry(&hook_base, state));
            if let Ok(mut r) = hook_registry.write() {
                *r = fresh;
            }
        }
    });
    let durability = match &config.data_dir {
        Some(dir) => Durability::Disk(dir.join("store.redb")),
        None => Durability::Memory,
    };
    let store = Store::open(durability, config.history, hook).map_err(|e| match e {
        store::DiskError::InUse => {
            let dir = config.data_dir.clone().unwrap_or_default();
            StartError::InUse {
                addr: read_server_file(&dir).map(|s| s.address),
                dir,
            }
        }
        other => StartError::Store {
            dir: config.data_dir.clone().unwrap_or_default(),
            source: other,
        },
    })?;
    {
        let fresh = Arc::new(rebuild_registry(&base, &store.read()));
        if let Ok(mut r) = registry.write() {
            *r = fresh;
        }
    }
    Ok(Arc::new(Shared {
        store,
        registry,
        kube_version: config.kube_version.clone(),
        log_requests: config.log_requests,
        stopping,
        openapi: discovery::OpenApiCache::default(),
    }))
}

/// Creates the system namespaces a fresh cluster has.
async fn seed(shared: &Shared, nodes: usize) -> Result<(), StartError> {
    let registry = shared.registry();
    let Some(ns_res) = registry.get("", "v1", "namespaces").cloned() else {
        return Err(StartError::Other(
            "the namespaces resource is missing".into(),
        ));
    };
    for name in SYSTEM_NAMESPACES {
        let key = Key::new(&ns_res.storage_key(), "", name);
        if shared.store.read().get(&key).is_some() {
            continue;
        }
        let mut obj = serde_json::json!({"metadata": {"name": name}});
        meta::prepare_create(&ns_res, &mut obj, None).map_err(|e| StartError::Other(e.message))?;
        defaults::apply(&ns_res, &mut obj);
        shared
            .store
            .write(move |txn| {
                if txn.get(&key).is_none() {
                    txn.put(&key, obj)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| StartError::Other(e.message))?;
    }
    let Some(node_res) = registry.get("", "v1", "nodes").cloned() else {
        return Ok(());
    };
    for n in 0..nodes.max(1) {
        let name = if n == 0 {
            NODE.to_string()
        } else {
            format!("{NODE}-{}", n + 1)
        };
        let key = Key::new(&node_res.storage_key(), "", &name);
        if shared.store.read().get(&key).is_some() {
            continue;
        }
        let mut node = serde_json::json!({
            "metadata": {"name": name, "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": std::env::consts::OS,
                "kubernetes.io/arch": "amd64",
            }},
            "spec": {"podCIDR": format!("10.244.{n}.0/24")},
        });
        if n == 0 {
            node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] =
                serde_json::json!("");
        }
        meta::prepare_create(&node_res, &mut node, None)
            .map_err(|e| StartError::Other(e.message))?;
        node["status"] = serde_json::json!({
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "pack's simulated node is ready", "lastHeartbeatTime": meta::now(), "lastTransitionTime": meta::now()}],
            "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", n + 2)}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": shared.kube_version.git_version(), "operatingSystem": "linux", "architecture": "amd64", "containerRuntimeVersion": "pack://simulated"},
        });
        shared
            .store
            .write(move |txn| {
                if txn.get(&key).is_none() {
                    txn.put(&key, node)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| StartError::Other(e.message))?;
    }
    Ok(())
}

/// The simulated node every cluster has.
const NODE: &str = "pack-node";

/// What `DIR/server.json` records about the server using a data directory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerFile {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The server's process id.
    pub pid: u32,
}

/// Reads `DIR/server.json`.
pub fn read_server_file(dir: &Path) -> Option<ServerFile> {
    let text = std::fs::read_to_string(dir.join("server.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// A kubeconfig pointing at a server.
pub fn kubeconfig(address: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: pack\n  cluster:\n    server: {address}\ncontexts:\n- name: pack\n  context:\n    cluster: pack\n    user: pack\n    namespace: default\ncurrent-context: pack\nusers:\n- name: pack\n  user:\n    token: pack\npreferences: {{}}\n"
    )
}

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Shared state (tests read the store directly).
    pub shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    data_dir: Option<PathBuf>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends watches and waits for the listener to close.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_file(dir.join("server.json"));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts a server on the current tokio runtime.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let shared = open_shared(&config, stopping.clone())?;
    seed(&shared, config.nodes).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.addr,
        source,
    })?;
    if let Some(dir) = &config.data_dir {
        let address = format!("http://{addr}");
        let file = ServerFile {
            address: address.clone(),
            pid: std::process::id(),
        };
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).map_err(|e| {
                StartError::Other(format!("writing {}: {e}", dir.join(name).display()))
            })
        };
        write(
            "server.json",
            serde_json::to_string(&file).map_err(|e| StartError::Other(e.to_string()))?,
        )?;
        write("kubeconfig", kubeconfig(&address))?;
    }
    if config.simulate {
        controller::spawn(shared.clone());
    }
    let task = tokio::spawn(http::serve(listener, shared.clone(), stopping));
    Ok(Running {
        addr,
        shared,
        stop,
        task: Some(task),
        data_dir: config.data_dir,
    })
}

/// The JSON of an object as a resource version presents it (`apiVersion` rewritten when it
/// is stored at another version of the same resource).
pub fn present(object: &store::Object, resource: &resources::Resource) -> bytes::Bytes {
    let api_version = resource.api_version();
    if *object.api_version == *api_version {
        return object.bytes.clone();
    }
    let mut value: Json = object.value();
    value["apiVersion"] = Json::String(api_version);
    bytes::Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
}
