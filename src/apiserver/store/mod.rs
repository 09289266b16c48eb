//! The object store: current objects in memory for reads, one writer thread that applies
//! writes in batches (group commit) to the durable log, a global resourceVersion, and the
//! revision history that watches replay.
//!
//! A write is a closure run on the writer thread against a [`Txn`] (the state plus the
//! batch's earlier changes). Its changes become visible to readers and watchers only after
//! the batch is durable, so an acknowledged write is never lost and no reader sees a write
//! that could still vanish.

mod disk;

pub use disk::DiskError;

use super::status::ApiError;
use bytes::Bytes;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, oneshot};

/// A stored object: its serialized JSON (what GET answers), its resourceVersion, and the
/// few metadata facts lists, watches and garbage collection test on every object. The tree
/// itself is parsed when a write needs it, which keeps memory near the JSON's size.
#[derive(Debug)]
pub struct Object {
    /// The object, serialized.
    pub bytes: Bytes,
    /// Its resourceVersion.
    pub rv: u64,
    /// `metadata.labels`.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// The uids in `metadata.ownerReferences`.
    pub owners: Box<[Box<str>]>,
    /// `apiVersion` as stored.
    pub api_version: Box<str>,
}

impl Object {
    /// Builds the stored form of a value.
    pub fn new(value: &Json, bytes: Bytes, rv: u64) -> Object {
        let meta = &value["metadata"];
        let labels = meta["labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
                    .collect()
            })
            .unwrap_or_default();
        let owners = meta["ownerReferences"]
            .as_array()
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r["uid"].as_str().map(Into::into))
                    .collect()
            })
            .unwrap_or_default();
        Object {
            bytes,
            rv,
            labels,
            owners,
            api_version: value["apiVersion"].as_str().unwrap_or_default().into(),
        }
    }

    /// The object as a JSON tree (parsed from the stored bytes).
    pub fn value(&self) -> Json {
        serde_json::from_slice(&self.bytes).unwrap_or(Json::Null)
    }

    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }
}

/// Where an object lives: its resource's storage key (`group/plural`), namespace (empty for
/// cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// `group/plural`.
    pub storage: String,
    /// Namespace, or empty.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Key {
    /// A key.
    pub fn new(storage: &str, namespace: &str, name: &str) -> Key {
        Key {
            storage: storage.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    fn encode(&self) -> String {
        format!("{}\x00{}\x00{}", self.storage, self.namespace, self.name)
    }

    fn decode(s: &str) -> Option<Key> {
        let mut parts = s.splitn(3, '\x00');
        Some(Key {
            storage: parts.next()?.to_string(),
            namespace: parts.next()?.to_string(),
            name: parts.next()?.to_string(),
        })
    }
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event type.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }

    fn code(self) -> u8 {
        match self {
            EventType::Added => b'A',
            EventType::Modified => b'M',
            EventType::Deleted => b'D',
        }
    }

    fn from_code(c: u8) -> Option<EventType> {
        match c {
            b'A' => Some(EventType::Added),
            b'M' => Some(EventType::Modified),
            b'D' => Some(EventType::Deleted),
            _ => None,
        }
    }
}

/// One entry of the revision log.
#[derive(Debug)]
pub struct Event {
    /// The revision it made.
    pub rv: u64,
    /// What happened.
    pub kind: EventType,
    /// Which object.
    pub key: Key,
    /// The object after the change (for deletes: as it was, with the delete's revision).
    pub object: Arc<Object>,
    /// The object before the change, if any (for selector transitions).
    pub previous: Option<Arc<Object>>,
}

/// Objects of one resource in key order: ((namespace, name), object).
pub type Entries<'a> = Box<dyn Iterator<Item = (&'a (String, String), &'a Arc<Object>)> + 'a>;

/// The in-memory state readers see.
#[derive(Default)]
pub struct State {
    objects: HashMap<String, BTreeMap<(String, String), Arc<Object>>>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    /// Revisions at or below this are no longer in the history.
    compacted: u64,
}

impl State {
    /// The current global resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// One object.
    pub fn get(&self, key: &Key) -> Option<&Arc<Object>> {
        self.objects
            .get(&key.storage)?
            .get(&(key.namespace.clone(), key.name.clone()))
    }

    /// Objects of a resource in key order (namespace, name), optionally in one namespace,
    /// starting after `after` (a continue position).
    pub fn range<'a>(
        &'a self,
        storage: &str,
        namespace: Option<&'a str>,
        after: Option<(String, String)>,
    ) -> Entries<'a> {
        let Some(map) = self.objects.get(storage) else {
            return Box::new(std::iter::empty());
        };
        use std::ops::Bound;
        let lower = match (after, namespace) {
            (Some(pos), _) => Bound::Excluded(pos),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let iter = map.range((lower, Bound::Unbounded));
        match namespace {
            Some(ns) => Box::new(iter.take_while(move |((n, _), _)| n == ns)),
            None => Box::new(iter),
        }
    }

    /// Number of objects stored under a resource.
    pub fn count(&self, storage: &str) -> usize {
        self.objects.get(storage).map_or(0, BTreeMap::len)
    }

    /// Whether any object lives in the namespace (across resources).
    pub fn namespace_is_empty(&self, namespace: &str) -> bool {
        self.objects.values().all(|m| {
            m.range((namespace.to_string(), String::new())..)
                .next()
                .is_none_or(|((ns, _), _)| ns != namespace)
        })
    }

    /// Events after `rv`, or `None` when the history no longer reaches back that far.
    pub fn events_after(&self, rv: u64) -> Option<Vec<Arc<Event>>> {
        if rv < self.compacted {
            return None;
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Some(self.history.range(start..).cloned().collect())
    }

    /// The oldest revision a watch may still start from.
    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    fn apply(&mut self, change: &Change) {
        let map = self.objects.entry(change.key.storage.clone()).or_default();
        let pos = (change.key.namespace.clone(), change.key.name.clone());
        match change.kind {
            EventType::Deleted => {
                map.remove(&pos);
            }
            _ => {
                map.insert(pos, change.object.clone());
            }
        }
    }
}

/// A change made in a transaction.
#[derive(Debug, Clone)]
struct Change {
    key: Key,
    kind: EventType,
    object: Arc<Object>,
    previous: Option<Arc<Object>>,
}

/// A batch transaction: the writer's view of the state plus this batch's changes.
pub struct Txn<'a> {
    state: &'a State,
    overlay: HashMap<Key, Option<Arc<Object>>>,
    changes: Vec<Change>,
    rv: u64,
}

impl Txn<'_> {
    /// The object as this transaction sees it.
    pub fn get(&self, key: &Key) -> Option<Arc<Object>> {
        match self.overlay.get(key) {
            Some(entry) => entry.clone(),
            None => self.state.get(key).cloned(),
        }
    }

    /// Every object of a resource (optionally one namespace) as this transaction sees it.
    pub fn list(&self, storage: &str, namespace: Option<&str>) -> Vec<(Key, Arc<Object>)> {
        let mut out: BTreeMap<(String, String), Arc<Object>> = self
            .state
            .range(storage, namespace, None)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, entry) in &self.overlay {
            if key.storage != storage || namespace.is_some_and(|ns| ns != key.namespace) {
                continue;
            }
            let pos = (key.namespace.clone(), key.name.clone());
            match entry {
                Some(obj) => {
                    out.insert(pos, obj.clone());
                }
                None => {
                    out.remove(&pos);
                }
            }
        }
        out.into_iter()
            .map(|((ns, name), obj)| (Key::new(storage, &ns, &name), obj))
            .collect()
    }

    /// Every storage key that has objects (for namespace cleanup and garbage collection).
    pub fn storages(&self) -> Vec<String> {
        let mut all: Vec<String> = self.state.objects.keys().cloned().collect();
        for key in self.overlay.keys() {
            if !all.contains(&key.storage) {
                all.push(key.storage.clone());
            }
        }
        all
    }

    /// The resourceVersion the next change will get.
    pub fn next_rv(&self) -> u64 {
        self.rv + 1
    }

    /// Writes an object: gives it the next resourceVersion (also into
    /// `metadata.resourceVersion`) and returns the stored form.
    pub fn put(&mut self, key: &Key, mut value: Json) -> Result<Arc<Object>, ApiError> {
        self.rv += 1;
        let rv = self.rv;
        if let Some(meta) = value.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.insert("resourceVersion".into(), Json::String(rv.to_string()));
        }
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ApiError::internal(format!("serializing the object: {e}")))?;
        let object = Arc::new(Object::new(&value, Bytes::from(bytes), rv));
        let previous = self.get(key);
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.overlay.insert(key.clone(), Some(object.clone()));
        self.changes.push(Change {
            key: key.clone(),
            kind,
            object: object.clone(),
            previous,
        });
        Ok(object)
    }

    /// Removes an object; the returned copy carries the delete's resourceVersion.
    pub fn delete(&mut self, key: &Key) -> Result<Option<Arc<Object>>, ApiError> {
        let Some(previous) = self.get(key) else {
            return Ok(None);
        };
        self.rv += 1;
        let rv = self.rv;
        let mut value = previous.value();
        if let Some(meta) = value.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.insert("resourceVersion".into(), Json::String(rv.to_string()));
        }
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ApiError::internal(format!("serializing the object: {e}")))?;
        let object = Arc::new(Object::new(&value, Bytes::from(bytes), rv));
        self.overlay.insert(key.clone(), None);
        self.changes.push(Change {
            key: key.clone(),
            kind: EventType::Deleted,
            object: object.clone(),
            previous: Some(previous),
        });
        Ok(Some(object))
    }

    fn mark(&self) -> (usize, u64) {
        (self.changes.len(), self.rv)
    }

    /// Undoes every change after `mark` (a failed operation leaves no trace).
    fn rollback(&mut self, mark: (usize, u64)) {
        if self.changes.len() == mark.0 {
            return;
        }
        self.changes.truncate(mark.0);
        self.rv = mark.1;
        self.overlay.clear();
        for change in &self.changes {
            let entry = match change.kind {
                EventType::Deleted => None,
                _ => Some(change.object.clone()),
            };
            self.overlay.insert(change.key.clone(), entry);
        }
    }
}

type Completion = Box<dyn FnOnce(Result<(), ApiError>) + Send>;
type Job = Box<dyn FnOnce(&mut Txn<'_>) -> Completion + Send>;

/// Hook run on the writer thread after each durable batch, with the batch's events (the
/// server uses it to refresh the resource registry when CRDs change).
pub type CommitHook = Box<dyn Fn(&State, &[Arc<Event>]) + Send + Sync>;

/// How many revisions the history keeps for watches to resume from.
pub const DEFAULT_HISTORY: usize = 20_000;

/// The store shared by all request handlers.
pub struct Store {
    state: Arc<RwLock<State>>,
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Arc<Event>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// Where objects are kept.
pub enum Durability {
    /// In memory only (tests).
    Memory,
    /// A redb database file; commits are fsynced.
    Disk(std::path::PathBuf),
}

impl Store {
    /// Opens (or creates) the store and starts its writer thread.
    pub fn open(
        durability: Durability,
        history: usize,
        hook: CommitHook,
    ) -> Result<Store, DiskError> {
        let (mut disk, state) = match durability {
            Durability::Memory => (None, State::default()),
            Durability::Disk(path) => {
                let (disk, state) = disk::Disk::open(&path, history)?;
                (Some(disk), state)
            }
        };
        let compacted_state = state;
        let state = Arc::new(RwLock::new(compacted_state));
        let (jobs, rx) = mpsc::channel::<Job>();
        let (events, _) = broadcast::channel(8192);
        let writer_state = state.clone();
        let writer_events = events.clone();
        let writer = std::thread::Builder::new()
            .name("pack-apiserver-writer".into())
            .spawn(move || {
                writer_loop(
                    rx,
                    writer_state,
                    writer_events,
                    disk.as_mut(),
                    history,
                    hook,
                )
            })
            .map_err(|e| DiskError::Io(e.to_string()))?;
        Ok(Store {
            state,
            jobs,
            events,
            writer: Some(writer),
        })
    }

    /// Reads the state.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        match self.state.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Subscribes to live events together with a consistent view of the state: every event
    /// the receiver gets has a revision above the view's.
    pub fn subscribe<T>(
        &self,
        f: impl FnOnce(&State) -> T,
    ) -> (broadcast::Receiver<Arc<Event>>, T) {
        let guard = self.read();
        let rx = self.events.subscribe();
        let out = f(&guard);
        (rx, out)
    }

    /// Runs a write on the writer thread and waits until it is durable.
    pub async fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Txn<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let mark = txn.mark();
            let result = op(txn);
            if result.is_err() {
                txn.rollback(mark);
            }
            Box::new(move |commit: Result<(), ApiError>| {
                let _ = tx.send(commit.and(result));
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::unavailable("the server is stopping"))?;
        rx.await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?
    }

    /// Runs a write against the current state without keeping it (`dryRun=All`).
    pub fn dry_run<T>(
        &self,
        op: impl FnOnce(&mut Txn<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let guard = self.read();
        let mut txn = Txn {
            state: &guard,
            overlay: HashMap::new(),
            changes: Vec::new(),
            rv: guard.rv,
        };
        op(&mut txn)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Closing the channel ends the writer loop once queued jobs are done.
        let (dead, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.jobs, dead));
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

const MAX_BATCH: usize = 1024;

fn writer_loop(
    rx: mpsc::Receiver<Job>,
    state: Arc<RwLock<State>>,
    events: broadcast::Sender<Arc<Event>>,
    mut disk: Option<&mut disk::Disk>,
    history: usize,
    hook: CommitHook,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let guard = match state.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut txn = Txn {
            state: &guard,
            overlay: HashMap::new(),
            changes: Vec::new(),
            rv: guard.rv,
        };
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&mut txn)).collect();
        let Txn { changes, rv, .. } = txn;
        drop(guard);
        let committed = match disk.as_deref_mut() {
            Some(disk) if !changes.is_empty() => disk
                .commit(&changes, rv)
                .map_err(|e| ApiError::internal(format!("storage: {e}"))),
            _ => Ok(()),
        };
        if committed.is_ok() && !changes.is_empty() {
            let mut guard = match state.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let mut new_events = Vec::with_capacity(changes.len());
            for change in changes {
                guard.apply(&change);
                let event = Arc::new(Event {
                    rv: change.object.rv,
                    kind: change.kind,
                    key: change.key,
                    object: change.object,
                    previous: change.previous,
                });
                guard.history.push_back(event.clone());
                new_events.push(event);
            }
            guard.rv = rv;
            while guard.history.len() > history {
                if let Some(old) = guard.history.pop_front() {
                    guard.compacted = old.rv;
                }
            }
            hook(&guard, &new_events);
            for event in new_events {
                let _ = events.send(event);
            }
        }
        for completion in completions {
            completion(committed.clone());
        }
    }
}

/// Opens a store in a data directory (`DIR/store.redb`).
pub fn open_dir(dir: &Path, history: usize, hook: CommitHook) -> Result<Store, DiskError> {
    Store::open(Durability::Disk(dir.join("store.redb")), history, hook)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn memory() -> Store {
        Store::open(Durability::Memory, 100, Box::new(|_, _| {})).expect("store")
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn writes_get_increasing_revisions_and_fail_atomically() {
        let store = memory();
        rt().block_on(async {
            let key = Key::new("/configmaps", "default", "a");
            let k = key.clone();
            let obj = store
                .write(move |txn| txn.put(&k, json!({"metadata": {"name": "a"}})))
                .await
                .expect("put");
            assert_eq!(obj.rv, 1);
            assert_eq!(obj.value()["metadata"]["resourceVersion"], "1");
            assert!(obj.labels.is_empty());
            let k = key.clone();
            let failed: Result<(), ApiError> = store
                .write(move |txn| {
                    txn.put(&k, json!({"metadata": {"name": "a", "x": 1}}))?;
                    Err(ApiError::bad_request("no"))
                })
                .await;
            assert!(failed.is_err());
            assert_eq!(store.read().get(&key).map(|o| o.rv), Some(1));
            let k = key.clone();
            let deleted = store
                .write(move |txn| txn.delete(&k))
                .await
                .expect("delete")
                .expect("was there");
            assert_eq!(deleted.rv, 2);
            assert!(store.read().get(&key).is_none());
            assert_eq!(store.read().events_after(0).map(|e| e.len()), Some(2));
        });
    }

    #[test]
    fn history_is_compacted() {
        let store = memory();
        rt().block_on(async {
            for i in 0..150 {
                let k = Key::new("/configmaps", "default", &format!("c{i}"));
                store
                    .write(move |txn| txn.put(&k, json!({"metadata": {}})))
                    .await
                    .expect("put");
            }
        });
        let state = store.read();
        assert!(state.events_after(10).is_none());
        assert_eq!(state.events_after(140).map(|e| e.len()), Some(10));
    }
}
