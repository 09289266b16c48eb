//! The cluster client: a kubeconfig cluster through the kube crate, or — when there is no
//! kubeconfig at all — pack's embedded API server (in-process, or the one already serving
//! the data directory). Objects are applied, read and deleted by apiVersion/kind through
//! discovery.

use crate::apiserver::{self, Running, StartError};
use crate::k8s::{Capabilities, KubeVersion};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Discovery, Scope};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why the cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig {
        /// Which file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The embedded cluster could not start.
    #[error("starting the embedded cluster: {0}")]
    Embedded(#[from] StartError),
    /// A request failed.
    #[error("{}", kube_message(.0))]
    Kube(#[from] kube::Error),
    /// A manifest names a kind the cluster does not serve.
    #[error(
        "resource mapping not found for kind \"{kind}\" in version \"{api_version}\": ensure CRDs are installed first"
    )]
    UnknownKind {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
    },
    /// A manifest is not an object with apiVersion, kind and metadata.name.
    #[error("manifest {0} has no apiVersion, kind or metadata.name")]
    Incomplete(String),
}

/// A kube error in a person's words: the API server's own message for a refused request
/// (kube's display adds a dump of the whole Status), else kube's text.
pub fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// How to reach a cluster.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--kube-context`.
    pub context: Option<String>,
    /// The embedded cluster's data directory (used when there is no kubeconfig).
    pub embedded_dir: PathBuf,
}

/// A connected cluster.
pub struct Cluster {
    /// The client.
    pub client: kube::Client,
    /// Kept alive while the embedded server runs in this process.
    pub embedded: Option<Running>,
    /// Where the embedded cluster's data is, when used.
    pub embedded_dir: Option<PathBuf>,
    discovery: Mutex<Option<std::sync::Arc<Discovery>>>,
}

/// The kubeconfig that applies, if any: `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`.
pub fn kubeconfig_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(env) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&env)
            .find(|p| p.is_file())
            .or_else(|| std::env::split_paths(&env).next());
    }
    let home = std::env::var_os("HOME")?;
    let p = PathBuf::from(home).join(".kube").join("config");
    p.is_file().then_some(p)
}

fn client_for_url(url: &str) -> Result<kube::Client, ClusterError> {
    let uri = url.parse().map_err(|e| ClusterError::Kubeconfig {
        path: url.to_string(),
        message: format!("bad server address: {e}"),
    })?;
    Ok(kube::Client::try_from(kube::Config::new(uri))?)
}

/// Whether a server answers at `url` (a server from an earlier process).
async fn answers(url: &str) -> bool {
    let Some(addr) = url.strip_prefix("http://") else {
        return false;
    };
    tokio::time::timeout(
        std::time::Duration::from_millis(500),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .is_ok_and(|r| r.is_ok())
}

impl Cluster {
    /// Connects: the kubeconfig cluster when there is a kubeconfig, else the embedded one.
    pub async fn connect(target: &Target) -> Result<Cluster, ClusterError> {
        if let Some(path) = kubeconfig_path(target.kubeconfig.as_deref()) {
            let err = |message: String| ClusterError::Kubeconfig {
                path: path.display().to_string(),
                message,
            };
            let kubeconfig = Kubeconfig::read_from(&path).map_err(|e| err(e.to_string()))?;
            let options = KubeConfigOptions {
                context: target.context.clone(),
                ..KubeConfigOptions::default()
            };
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| err(e.to_string()))?;
            return Ok(Cluster {
                client: kube::Client::try_from(config)?,
                embedded: None,
                embedded_dir: None,
                discovery: Mutex::new(None),
            });
        }
        Cluster::embedded(&target.embedded_dir).await
    }

    /// The embedded cluster on `dir`: the server already serving it, or one started here.
    pub async fn embedded(dir: &Path) -> Result<Cluster, ClusterError> {
        if let Some(file) = apiserver::read_server_file(dir)
            && answers(&file.address).await
        {
            return Ok(Cluster {
                client: client_for_url(&file.address)?,
                embedded: None,
                embedded_dir: Some(dir.to_path_buf()),
                discovery: Mutex::new(None),
            });
        }
        let config = apiserver::Config {
            data_dir: Some(dir.to_path_buf()),
            ..apiserver::Config::default()
        };
        match apiserver::start(config).await {
            Ok(running) => Ok(Cluster {
                client: client_for_url(&running.url())?,
                embedded: Some(running),
                embedded_dir: Some(dir.to_path_buf()),
                discovery: Mutex::new(None),
            }),
            Err(StartError::InUse {
                addr: Some(addr), ..
            }) => Ok(Cluster {
                client: client_for_url(&addr)?,
                embedded: None,
                embedded_dir: Some(dir.to_path_buf()),
                discovery: Mutex::new(None),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Stops an in-process embedded server (its data stays).
    pub async fn close(mut self) {
        if let Some(running) = self.embedded.take() {
            running.stop().await;
        }
    }

    async fn discovery(&self, refresh: bool) -> Result<std::sync::Arc<Discovery>, ClusterError> {
        if !refresh
            && let Some(d) = self
                .discovery
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        {
            return Ok(d);
        }
        let d = std::sync::Arc::new(Discovery::new(self.client.clone()).run_aggregated().await?);
        *self.discovery.lock().unwrap_or_else(|p| p.into_inner()) = Some(d.clone());
        Ok(d)
    }

    /// What templates see as `.Capabilities`: the server's version and its API versions.
    pub async fn capabilities(&self) -> Result<Capabilities, ClusterError> {
        let info = self.client.apiserver_version().await?;
        let kube_version = KubeVersion::parse(&info.git_version).unwrap_or_default();
        let discovery = self.discovery(false).await?;
        let mut api_versions = Vec::new();
        for group in discovery.groups() {
            for (ar, _) in group.recommended_resources() {
                let gv = ar.api_version.clone();
                if !api_versions.contains(&gv) {
                    api_versions.push(gv.clone());
                }
                api_versions.push(format!("{gv}/{}", ar.kind));
            }
            for version in group.versions() {
                let gv = if group.name().is_empty() {
                    version.to_string()
                } else {
                    format!("{}/{version}", group.name())
                };
                if !api_versions.contains(&gv) {
                    api_versions.push(gv);
                }
            }
        }
        Ok(Capabilities {
            kube_version,
            api_versions,
        })
    }

    /// The resource serving a kind (discovery refreshed once when it is unknown, e.g. right
    /// after its CRD was created).
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, ApiCapabilities), ClusterError> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        for refresh in [false, true] {
            let d = self.discovery(refresh).await?;
            if let Some(found) = d.resolve_gvk(&gvk) {
                return Ok(found);
            }
        }
        Err(ClusterError::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        })
    }

    async fn api(
        &self,
        obj: &Json,
        namespace: &str,
    ) -> Result<(Api<DynamicObject>, String), ClusterError> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(ClusterError::Incomplete(format!("{kind}/{name}")));
        }
        let (ar, caps) = self.resolve(api_version, kind).await?;
        let api = match caps.scope {
            Scope::Namespaced => {
                let ns = obj["metadata"]["namespace"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(namespace);
                Api::namespaced_with(self.client.clone(), ns, &ar)
            }
            Scope::Cluster => Api::all_with(self.client.clone(), &ar),
        };
        Ok((api, name.to_string()))
    }

    /// Helm's `lookup`: with a name, the object (an empty map when it does not exist); without
    /// one, a list of them (`kind: <Kind>List`, `items`), in `namespace` or, when it is empty,
    /// everywhere.
    pub async fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Json, ClusterError> {
        let (ar, caps) = self.resolve(api_version, kind).await?;
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced if !namespace.is_empty() => {
                Api::namespaced_with(self.client.clone(), namespace, &ar)
            }
            _ => Api::all_with(self.client.clone(), &ar),
        };
        if !name.is_empty() {
            return Ok(match api.get_opt(name).await? {
                Some(obj) => serde_json::to_value(obj).unwrap_or_else(|_| serde_json::json!({})),
                None => serde_json::json!({}),
            });
        }
        let list = api.list(&kube::api::ListParams::default()).await?;
        let items: Vec<Json> = list
            .items
            .into_iter()
            .map(|o| {
                let mut v = serde_json::to_value(o).unwrap_or_default();
                v["apiVersion"] = Json::from(api_version);
                v["kind"] = Json::from(kind);
                v
            })
            .collect();
        Ok(serde_json::json!({
            "apiVersion": api_version,
            "kind": format!("{kind}List"),
            "metadata": {"resourceVersion": list.metadata.resource_version.unwrap_or_default()},
            "items": items,
        }))
    }

    /// The live object a manifest names, if it exists.
    pub async fn get(
        &self,
        obj: &Json,
        namespace: &str,
    ) -> Result<Option<DynamicObject>, ClusterError> {
        let (api, name) = self.api(obj, namespace).await?;
        Ok(api.get_opt(&name).await?)
    }

    /// Server-side apply of a manifest.
    pub async fn apply(
        &self,
        obj: &Json,
        namespace: &str,
        manager: &str,
        force: bool,
    ) -> Result<DynamicObject, ClusterError> {
        let (api, name) = self.api(obj, namespace).await?;
        let mut params = PatchParams::apply(manager);
        params.force = force;
        params.field_validation = Some(kube::api::ValidationDirective::Strict);
        Ok(api.patch(&name, &params, &Patch::Apply(obj)).await?)
    }

    /// What applying a manifest would make of the object, without changing it (a
    /// server-side dry run).
    pub async fn apply_dry_run(
        &self,
        obj: &Json,
        namespace: &str,
        manager: &str,
    ) -> Result<DynamicObject, ClusterError> {
        let (api, name) = self.api(obj, namespace).await?;
        let mut params = PatchParams::apply(manager).force();
        params.dry_run = true;
        Ok(api.patch(&name, &params, &Patch::Apply(obj)).await?)
    }

    /// A JSON merge patch of the live object (e.g. rewriting `managedFields`).
    pub async fn merge_patch(
        &self,
        obj: &Json,
        namespace: &str,
        patch: &Json,
    ) -> Result<DynamicObject, ClusterError> {
        let (api, name) = self.api(obj, namespace).await?;
        Ok(api
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?)
    }

    /// Deletes what a manifest names (background propagation); a missing object is fine.
    /// Returns whether it existed.
    pub async fn delete(&self, obj: &Json, namespace: &str) -> Result<bool, ClusterError> {
        let (api, name) = self.api(obj, namespace).await?;
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a namespace when it is missing (`--create-namespace`).
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), ClusterError> {
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        if self.get(&ns, "").await?.is_none() {
            self.apply(&ns, "", "helm", false).await?;
        }
        Ok(())
    }
}
