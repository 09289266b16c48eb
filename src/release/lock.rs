//! A real lock per release instead of Helm's stuck `pending-*`: a `coordination.k8s.io/v1`
//! Lease `pack-release-<name>` in the release namespace, taken for every mutating command,
//! renewed while the command runs, released at the end, and taken over once it expires
//! (a holder that crashed).

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use std::time::Duration;

/// How long a lease lasts without renewal.
pub const LEASE_SECONDS: i32 = 30;

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another operation holds it.
    #[error(
        "release \"{release}\" is locked by {holder} since {since} (another install/upgrade/rollback/uninstall is running); it expires {expires} if that operation died"
    )]
    Held {
        /// Release name.
        release: String,
        /// Who holds it.
        holder: String,
        /// Since when.
        since: String,
        /// When it lapses without renewal.
        expires: String,
    },
    /// The cluster failed.
    #[error("{}", crate::cluster::kube_message(.0))]
    Kube(#[from] kube::Error),
}

/// A held lock; renewed in the background until released.
pub struct Lock {
    api: Api<Lease>,
    name: String,
    renew: tokio::task::JoinHandle<()>,
}

fn lease_name(release: &str) -> String {
    format!("pack-release-{release}")
}

/// Who this process is: `pack@<host>/<pid>`.
pub fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("pack@{host}/{}", std::process::id())
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// Whether a holder is a pack process on this machine that no longer runs.
fn holder_dead(holder: &str) -> bool {
    let Some((host, pid)) = holder
        .strip_prefix("pack@")
        .and_then(|h| h.rsplit_once('/'))
    else {
        return false;
    };
    let mine = identity();
    let my_host = mine
        .strip_prefix("pack@")
        .and_then(|h| h.rsplit_once('/'))
        .map(|(h, _)| h);
    my_host == Some(host) && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn expired(lease: &Lease) -> bool {
    let Some(spec) = &lease.spec else {
        return true;
    };
    if spec.holder_identity.as_deref().is_some_and(holder_dead) {
        return true;
    }
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    match &spec.renew_time {
        Some(MicroTime(t)) => t.as_second() + seconds < jiff::Timestamp::now().as_second(),
        None => true,
    }
}

impl Lock {
    /// Takes the release's lock (or fails saying who holds it).
    pub async fn acquire(
        client: &kube::Client,
        namespace: &str,
        release: &str,
    ) -> Result<Lock, LockError> {
        let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
        let name = lease_name(release);
        let me = identity();
        let spec = LeaseSpec {
            holder_identity: Some(me.clone()),
            lease_duration_seconds: Some(LEASE_SECONDS),
            acquire_time: Some(now()),
            renew_time: Some(now()),
            ..LeaseSpec::default()
        };
        let fresh = Lease {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_string(),
                        "pack".to_string(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(spec.clone()),
        };
        match api.create(&PostParams::default(), &fresh).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let current = api.get(&name).await?;
                if !expired(&current) {
                    let spec = current.spec.unwrap_or_default();
                    let fmt = |t: Option<MicroTime>| {
                        t.map(|MicroTime(t)| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                            .unwrap_or_default()
                    };
                    let expires = spec
                        .renew_time
                        .as_ref()
                        .map(|MicroTime(t)| {
                            (*t + jiff::SignedDuration::from_secs(i64::from(
                                spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS),
                            )))
                            .strftime("%Y-%m-%dT%H:%M:%SZ")
                            .to_string()
                        })
                        .unwrap_or_default();
                    return Err(LockError::Held {
                        release: release.to_string(),
                        holder: spec
                            .holder_identity
                            .clone()
                            .unwrap_or_else(|| "someone".into()),
                        since: fmt(spec.acquire_time.clone()),
                        expires: format!("at {expires}"),
                    });
                }
                // Expired: take it over (the resourceVersion makes a race a conflict).
                let mut taken = current.clone();
                taken.spec = Some(spec);
                api.replace(&name, &PostParams::default(), &taken).await?;
            }
            Err(e) => return Err(e.into()),
        }
        let renew_api = api.clone();
        let renew_name = name.clone();
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs((LEASE_SECONDS / 3) as u64)).await;
                if let Ok(mut lease) = renew_api.get(&renew_name).await
                    && let Some(spec) = lease.spec.as_mut()
                    && spec.holder_identity.as_deref() == Some(me.as_str())
                {
                    spec.renew_time = Some(now());
                    let _ = renew_api
                        .replace(&renew_name, &PostParams::default(), &lease)
                        .await;
                } else {
                    return;
                }
            }
        });
        Ok(Lock { api, name, renew })
    }

    /// Gives the lock back.
    pub async fn release(self) {
        self.renew.abort();
        let _ = self.api.delete(&self.name, &DeleteParams::default()).await;
    }
}
