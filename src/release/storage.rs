//! Where release records live: Secrets (Helm's default), ConfigMaps, or memory (tests,
//! dry runs) — one small interface, Helm's names, labels and encoding.

use super::{RecordError, Release, key};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Labels Helm reserves on storage objects.
const SYSTEM_LABELS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

/// Largest piece of an encoded record one Secret carries. Records that fit are stored in
/// Helm's exact single-Secret format; larger ones (Helm fails on them: the API server's
/// 1 MiB object limit) are split: the first piece in the release Secret, annotated
/// `pack.dev/release-chunks: N`, the others in Secrets `<key>.c1` … `<key>.c<N-1>` of type
/// `pack.dev/release-chunk.v1` without `owner=helm` (so `helm list` does not see them).
pub const CHUNK_BYTES: usize = 700 * 1024;
const CHUNKS_ANNOTATION: &str = "pack.dev/release-chunks";

fn chunk_name(key: &str, i: usize) -> String {
    format!("{key}.c{i}")
}

fn pieces(text: &str) -> Vec<&str> {
    // Base64 is ASCII: any byte offset is a character boundary.
    text.as_bytes()
        .chunks(CHUNK_BYTES)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect()
}

async fn write_chunks(api: &Api<Secret>, key: &str, rest: &[&str]) -> Result<(), kube::Error> {
    for (i, piece) in rest.iter().enumerate() {
        let name = chunk_name(key, i + 1);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(BTreeMap::from([(
                    "pack.dev/release-chunk-of".into(),
                    "true".into(),
                )])),
                ..ObjectMeta::default()
            },
            type_: Some("pack.dev/release-chunk.v1".into()),
            data: Some(BTreeMap::from([(
                "release".into(),
                ByteString(piece.as_bytes().to_vec()),
            )])),
            ..Secret::default()
        };
        match api.create(&PostParams::default(), &secret).await {
            Err(kube::Error::Api(s)) if s.code == 409 => {
                api.replace(&name, &PostParams::default(), &secret).await?;
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Deletes pieces from `from` on (an earlier, larger version's, or all of a deleted record's).
async fn drop_chunks(api: &Api<Secret>, key: &str, from: usize) {
    let mut i = from;
    while api
        .delete(&chunk_name(key, i), &DeleteParams::default())
        .await
        .is_ok()
    {
        i += 1;
    }
}

async fn read_chunks(
    api: &Api<Secret>,
    secret: &Secret,
    first: &str,
) -> Result<String, kube::Error> {
    let count: usize = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CHUNKS_ANNOTATION))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let key = secret.metadata.name.clone().unwrap_or_default();
    let mut text = first.to_string();
    for i in 1..count {
        let piece = api.get(&chunk_name(&key, i)).await?;
        if let Some(data) = piece.data.as_ref().and_then(|d| d.get("release")) {
            text.push_str(&String::from_utf8_lossy(&data.0));
        }
    }
    Ok(text)
}

/// The release Secret (first piece), after writing the other pieces when there are any.
async fn release_secret(
    api: &Api<Secret>,
    rel: &Release,
    meta: ObjectMeta,
    text: &str,
) -> Result<Secret, kube::Error> {
    let parts = pieces(text);
    let mut meta = meta;
    if parts.len() > 1 {
        write_chunks(api, &rel.key(), &parts[1..]).await?;
        drop_chunks(api, &rel.key(), parts.len()).await;
        meta.annotations = Some(BTreeMap::from([(
            CHUNKS_ANNOTATION.into(),
            parts.len().to_string(),
        )]));
        // helm could not decode the first piece alone: it does not list this release.
        if let Some(labels) = meta.labels.as_mut() {
            labels.insert("owner".into(), "pack".into());
        }
    }
    Ok(Secret {
        metadata: meta,
        type_: Some("helm.sh/release.v1".into()),
        data: Some(BTreeMap::from([(
            "release".into(),
            ByteString(
                parts
                    .first()
                    .copied()
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
            ),
        )])),
        ..Secret::default()
    })
}

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The revision exists already (another operation got there first).
    #[error("release {0} already exists")]
    Exists(String),
    /// A record could not be decoded.
    #[error("release record {name}: {source}")]
    Record {
        /// Storage object name.
        name: String,
        /// What was wrong.
        source: RecordError,
    },
    /// The cluster refused or failed.
    #[error("{}", crate::cluster::kube_message(.0))]
    Kube(#[from] kube::Error),
}

/// A storage driver.
pub enum Storage {
    /// `v1.Secret`s of type `helm.sh/release.v1`.
    Secrets(kube::Client),
    /// `v1.ConfigMap`s.
    ConfigMaps(kube::Client),
    /// In memory.
    Memory(Mutex<HashMap<(String, String), Release>>),
}

fn labels_for(rel: &Release, created: bool) -> BTreeMap<String, String> {
    let mut labels = rel.labels.clone();
    labels.insert("name".into(), rel.name.clone());
    labels.insert("owner".into(), "helm".into());
    labels.insert("status".into(), rel.info.status.clone());
    labels.insert("version".into(), rel.version.to_string());
    let now = jiff::Timestamp::now().as_second().to_string();
    labels.insert(if created { "createdAt" } else { "modifiedAt" }.into(), now);
    labels
}

fn decode(
    name: &str,
    text: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> Result<Release, StorageError> {
    let mut rel = Release::decode(text).map_err(|source| StorageError::Record {
        name: name.to_string(),
        source,
    })?;
    if let Some(labels) = labels {
        rel.labels = labels
            .iter()
            .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    Ok(rel)
}

fn encoded(rel: &Release) -> Result<String, StorageError> {
    rel.encode().map_err(|source| StorageError::Record {
        name: rel.key(),
        source,
    })
}

impl Storage {
    /// An empty in-memory store.
    pub fn memory() -> Storage {
        Storage::Memory(Mutex::new(HashMap::new()))
    }

    /// Helm's driver names: `secret` (default), `configmap`, `memory`.
    pub fn by_name(name: &str, client: kube::Client) -> Option<Storage> {
        match name {
            "" | "secret" | "secrets" => Some(Storage::Secrets(client)),
            "configmap" | "configmaps" => Some(Storage::ConfigMaps(client)),
            "memory" => Some(Storage::memory()),
            _ => None,
        }
    }

    /// Every record matching a label selector, in one namespace or all.
    async fn query(
        &self,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Release>, StorageError> {
        let params = ListParams::default().labels(selector);
        let mut out = Vec::new();
        match self {
            Storage::Secrets(client) => {
                let api: Api<Secret> = match namespace {
                    Some(ns) => Api::namespaced(client.clone(), ns),
                    None => Api::all(client.clone()),
                };
                for s in api.list(&params).await? {
                    let name = s.metadata.name.clone().unwrap_or_default();
                    let Some(data) = s.data.as_ref().and_then(|d| d.get("release")) else {
                        continue;
                    };
                    let first = String::from_utf8_lossy(&data.0).into_owned();
                    let text = if s
                        .metadata
                        .annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key(CHUNKS_ANNOTATION))
                    {
                        let ns = s.metadata.namespace.clone().unwrap_or_default();
                        read_chunks(&Api::namespaced(client.clone(), &ns), &s, &first).await?
                    } else {
                        first
                    };
                    out.push(decode(&name, &text, s.metadata.labels.as_ref())?);
                }
            }
            Storage::ConfigMaps(client) => {
                let api: Api<ConfigMap> = match namespace {
                    Some(ns) => Api::namespaced(client.clone(), ns),
                    None => Api::all(client.clone()),
                };
                for c in api.list(&params).await? {
                    let name = c.metadata.name.clone().unwrap_or_default();
                    let Some(text) = c.data.as_ref().and_then(|d| d.get("release")) else {
                        continue;
                    };
                    out.push(decode(&name, text, c.metadata.labels.as_ref())?);
                }
            }
            Storage::Memory(map) => {
                let map = map.lock().unwrap_or_else(|p| p.into_inner());
                let want: Vec<(&str, &str)> = selector
                    .split(',')
                    .filter_map(|t| t.split_once('='))
                    .filter(|(k, _)| *k != "owner")
                    .collect();
                for ((ns, _), rel) in map.iter() {
                    if namespace.is_some_and(|n| n != ns) {
                        continue;
                    }
                    let ok = want.iter().all(|(k, v)| match *k {
                        "name" => rel.name == *v,
                        "status" => rel.info.status == *v,
                        _ => rel.labels.get(*k).is_some_and(|l| l == v),
                    });
                    if ok {
                        out.push(rel.clone());
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.namespace, &a.name, a.version).cmp(&(&b.namespace, &b.name, b.version))
        });
        Ok(out)
    }

    /// Every revision of a release, oldest first.
    pub async fn history(&self, namespace: &str, name: &str) -> Result<Vec<Release>, StorageError> {
        self.query(
            Some(namespace),
            &format!("name={name},owner in (helm,pack)"),
        )
        .await
    }

    /// Every revision of every release (one namespace, or all with `None`).
    pub async fn all(&self, namespace: Option<&str>) -> Result<Vec<Release>, StorageError> {
        self.query(namespace, "owner in (helm,pack)").await
    }

    /// Stores a new revision; fails with [`StorageError::Exists`] when it is taken.
    pub async fn create(&self, rel: &Release) -> Result<(), StorageError> {
        let text = encoded(rel)?;
        let meta = ObjectMeta {
            name: Some(rel.key()),
            namespace: Some(rel.namespace.clone()),
            labels: Some(labels_for(rel, true)),
            ..ObjectMeta::default()
        };
        let result = match self {
            Storage::Secrets(client) => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &rel.namespace);
                let secret = release_secret(&api, rel, meta, &text).await?;
                api.create(&PostParams::default(), &secret)
                    .await
                    .map(|_| ())
            }
            Storage::ConfigMaps(client) => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &rel.namespace);
                let cm = ConfigMap {
                    metadata: meta,
                    data: Some(BTreeMap::from([("release".into(), text)])),
                    ..ConfigMap::default()
                };
                api.create(&PostParams::default(), &cm).await.map(|_| ())
            }
            Storage::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                let k = (rel.namespace.clone(), rel.key());
                if map.contains_key(&k) {
                    return Err(StorageError::Exists(rel.key()));
                }
                map.insert(k, rel.clone());
                return Ok(());
            }
        };
        match result {
            Err(kube::Error::Api(s)) if s.code == 409 => Err(StorageError::Exists(rel.key())),
            other => Ok(other?),
        }
    }

    /// Rewrites a revision (status changes), unconditionally as Helm does.
    pub async fn update(&self, rel: &Release) -> Result<(), StorageError> {
        let text = encoded(rel)?;
        let meta = ObjectMeta {
            name: Some(rel.key()),
            namespace: Some(rel.namespace.clone()),
            labels: Some(labels_for(rel, false)),
            ..ObjectMeta::default()
        };
        match self {
            Storage::Secrets(client) => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &rel.namespace);
                let secret = release_secret(&api, rel, meta, &text).await?;
                api.replace(&rel.key(), &PostParams::default(), &secret)
                    .await?;
            }
            Storage::ConfigMaps(client) => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &rel.namespace);
                let cm = ConfigMap {
                    metadata: meta,
                    data: Some(BTreeMap::from([("release".into(), text)])),
                    ..ConfigMap::default()
                };
                api.replace(&rel.key(), &PostParams::default(), &cm).await?;
            }
            Storage::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((rel.namespace.clone(), rel.key()), rel.clone());
            }
        }
        Ok(())
    }

    /// Removes a revision (a missing one is not an error).
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
    ) -> Result<(), StorageError> {
        let k = key(name, revision);
        let result = match self {
            Storage::Secrets(client) => {
                let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
                let gone = api.delete(&k, &DeleteParams::default()).await.map(|_| ());
                drop_chunks(&api, &k, 1).await;
                gone
            }
            Storage::ConfigMaps(client) => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
                api.delete(&k, &DeleteParams::default()).await.map(|_| ())
            }
            Storage::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&(namespace.to_string(), k));
                return Ok(());
            }
        };
        match result {
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            other => Ok(other?),
        }
    }
}
