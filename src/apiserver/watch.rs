//! Watches: a stream of JSON events from the revision log — initial state or replay from a
//! resourceVersion, selector transitions, bookmarks, WatchList's initial-events-end
//! bookmark, 410 after compaction, `timeoutSeconds`.

use super::handlers::{Reply, Request, selectors};
use super::resources::Resource;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiError as E};
use super::store::{Event, EventType, Key, Object};
use super::{Shared, present};
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);
/// A watch's length when the client does not say (the real server picks 30–60 minutes).
const DEFAULT_TIMEOUT: u64 = 1800;

struct Filter {
    storage: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn scope(&self, event: &Event) -> bool {
        event.key.storage == self.storage
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == event.key.namespace)
    }

    fn selects(&self, key: &Key, obj: &Object) -> bool {
        super::handlers::selected(&self.labels, &self.fields, key, obj)
    }

    /// The event type to send for a change, given selector transitions.
    fn translate(&self, event: &Event) -> Option<&'static str> {
        if !self.scope(event) {
            return None;
        }
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.selects(&event.key, p));
        match event.kind {
            EventType::Deleted => (before
                || event.previous.is_none() && self.selects(&event.key, &event.object))
            .then_some("DELETED"),
            EventType::Added => self.selects(&event.key, &event.object).then_some("ADDED"),
            EventType::Modified => {
                let now = self.selects(&event.key, &event.object);
                let before = before || (event.previous.is_none() && now);
                match (before, now) {
                    (true, true) => Some("MODIFIED"),
                    (false, true) => Some("ADDED"),
                    (true, false) => Some("DELETED"),
                    (false, false) => None,
                }
            }
        }
    }
}

fn line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(res: &Resource, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let obj = json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": meta});
    line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

fn too_old(rv: u64, oldest: u64) -> Bytes {
    let status = E::gone(format!("too old resource version: {rv} ({oldest})")).to_status();
    line("ERROR", &serde_json::to_vec(&status).unwrap_or_default())
}

enum Start {
    /// Send these objects as ADDED first.
    Initial(Vec<Arc<Object>>, u64),
    /// Replay these events.
    Replay(Vec<Arc<Event>>, u64),
    /// The requested revision is compacted.
    Expired(u64, u64),
}

/// Starts a watch on a resource (optionally one namespace).
pub fn watch(
    shared: Arc<Shared>,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req, &res)?;
    let q = |k: &str| req.query.get(k).map(String::as_str);
    let send_initial = q("sendInitialEvents") == Some("true");
    let bookmarks = q("allowWatchBookmarks") == Some("true");
    if send_initial && !bookmarks {
        return Err(ApiError::invalid(
            "",
            "ListOptions",
            "",
            vec![super::status::cause(
                "FieldValueForbidden",
                "allowWatchBookmarks",
                "Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true",
            )],
        ));
    }
    let timeout = q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(DEFAULT_TIMEOUT);
    let requested: Option<u64> = match q("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let filter = Filter {
        storage: res.storage_key(),
        namespace: ns,
        labels,
        fields,
    };
    let (rx, start) = shared
        .store
        .subscribe(|state| match (send_initial, requested) {
            (false, Some(rv)) => match state.events_after(rv) {
                Some(events) => Start::Replay(events, rv),
                None => Start::Expired(rv, state.compacted() + 1),
            },
            _ => {
                let objects = state
                    .range(&filter.storage, filter.namespace.as_deref(), None)
                    .filter(|((ns, name), o)| {
                        filter.selects(&Key::new(&filter.storage, ns, name), o)
                    })
                    .map(|(_, o)| o.clone())
                    .collect();
                Start::Initial(objects, state.rv())
            }
        });
    let (tx, body) = mpsc::channel::<Bytes>(256);
    let stopping = shared.stopping.clone();
    tokio::spawn(run(
        shared,
        res,
        filter,
        rx,
        start,
        tx,
        send_initial,
        bookmarks,
        Duration::from_secs(timeout),
        stopping,
    ));
    Ok(Reply::Stream(body))
}

#[allow(clippy::too_many_arguments)]
async fn run(
    shared: Arc<Shared>,
    res: Arc<Resource>,
    filter: Filter,
    mut rx: broadcast::Receiver<Arc<Event>>,
    start: Start,
    tx: mpsc::Sender<Bytes>,
    send_initial: bool,
    bookmarks: bool,
    timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = match start {
        Start::Initial(objects, rv) => {
            for obj in objects {
                if tx.send(line("ADDED", &present(&obj, &res))).await.is_err() {
                    return;
                }
            }
            if send_initial && tx.send(bookmark(&res, rv, true)).await.is_err() {
                return;
            }
            rv
        }
        Start::Replay(events, rv) => {
            let mut last = rv;
            for event in events {
                last = event.rv;
                if let Some(kind) = filter.translate(&event)
                    && tx
                        .send(line(kind, &present(&event.object, &res)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            last
        }
        Start::Expired(rv, oldest) => {
            let _ = tx.send(too_old(rv, oldest)).await;
            return;
        }
    };
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = stopping.changed() => return,
            _ = tx.closed() => return,
            _ = ticker.tick(), if bookmarks => {
                let rv = shared.store.read().rv().max(last);
                if tx.send(bookmark(&res, rv, false)).await.is_err() {
                    return;
                }
            }
            event = rx.recv() => {
                let events = match event {
                    Ok(e) => vec![e],
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Fell behind the live channel: catch up from the history.
                        let caught = shared.store.read().events_after(last);
                        match caught {
                            Some(events) => events,
                            None => {
                                let oldest = shared.store.read().compacted() + 1;
                                let _ = tx.send(too_old(last, oldest)).await;
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                for event in events {
                    if event.rv <= last {
                        continue;
                    }
                    last = event.rv;
                    if let Some(kind) = filter.translate(&event)
                        && tx.send(line(kind, &present(&event.object, &res))).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
}
