//! The durable side of the store: a redb database holding current objects and the
//! revision log, written in one fsynced transaction per batch.
//!
//! redb rather than SQLite: it is pure Rust (no C build, smaller binary), crash-safe by
//! default (copy-on-write pages, two checksummed commit slots, fsync on commit), and locks
//! its file against a second process — which is how a second pack finds a running server.

use super::{Change, Event, EventType, Key, Object, State};
use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::Path;
use std::sync::Arc;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// redb's page cache.
const CACHE_BYTES: usize = 16 << 20;

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// Another process has the database open.
    #[error("the store is in use by another process")]
    InUse,
    /// Anything else from the database or the file system.
    #[error("{0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> DiskError {
    DiskError::Io(e.to_string())
}

/// The open database.
pub struct Disk {
    db: Database,
    history: usize,
    commits: u64,
}

fn encode_event(kind: EventType, key: &Key, bytes: &[u8]) -> Vec<u8> {
    let k = key.encode();
    let mut out = Vec::with_capacity(1 + 4 + k.len() + bytes.len());
    out.push(kind.code());
    out.extend_from_slice(&(k.len() as u32).to_le_bytes());
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(bytes);
    out
}

fn decode_event(rv: u64, data: &[u8]) -> Option<Event> {
    let kind = EventType::from_code(*data.first()?)?;
    let len = u32::from_le_bytes(data.get(1..5)?.try_into().ok()?) as usize;
    let key = Key::decode(std::str::from_utf8(data.get(5..5 + len)?).ok()?)?;
    let bytes = data.get(5 + len..)?;
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(Event {
        rv,
        kind,
        key,
        object: Arc::new(Object::new(&value, Bytes::copy_from_slice(bytes), rv)),
        previous: None,
    })
}

impl Disk {
    /// Opens or creates the database and loads the state from it.
    pub fn open(path: &Path, history: usize) -> Result<(Disk, State), DiskError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Reads are served from memory; redb's cache only needs to hold the pages a
        // commit touches (its default of 1 GiB would be most of the server's memory).
        let db = match Database::builder().set_cache_size(CACHE_BYTES).create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(DiskError::InUse),
            Err(e) => return Err(io(e)),
        };
        {
            let txn = db.begin_write().map_err(io)?;
            txn.open_table(OBJECTS).map_err(io)?;
            txn.open_table(LOG).map_err(io)?;
            txn.open_table(META).map_err(io)?;
            txn.commit().map_err(io)?;
        }
        let mut state = State::default();
        {
            let txn = db.begin_read().map_err(io)?;
            let meta = txn.open_table(META).map_err(io)?;
            state.rv = meta.get("rv").map_err(io)?.map_or(0, |v| v.value());
            state.compacted = meta.get("compacted").map_err(io)?.map_or(0, |v| v.value());
            let objects = txn.open_table(OBJECTS).map_err(io)?;
            for entry in objects.iter().map_err(io)? {
                let (k, v) = entry.map_err(io)?;
                let Some(key) = Key::decode(k.value()) else {
                    continue;
                };
                let bytes = v.value();
                let value: serde_json::Value = serde_json::from_slice(bytes).map_err(io)?;
                let rv = value["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                state.objects.entry(key.storage).or_default().insert(
                    (key.namespace, key.name),
                    Arc::new(Object::new(&value, Bytes::copy_from_slice(bytes), rv)),
                );
            }
            let log = txn.open_table(LOG).map_err(io)?;
            for entry in log.iter().map_err(io)? {
                let (rv, data) = entry.map_err(io)?;
                if let Some(event) = decode_event(rv.value(), data.value()) {
                    state.history.push_back(Arc::new(event));
                }
            }
            while state.history.len() > history {
                if let Some(old) = state.history.pop_front() {
                    state.compacted = old.rv;
                }
            }
        }
        Ok((
            Disk {
                db,
                history,
                commits: 0,
            },
            state,
        ))
    }

    /// Writes a batch of changes and the new global revision durably.
    pub(super) fn commit(&mut self, changes: &[Change], rv: u64) -> Result<(), DiskError> {
        let txn = self.db.begin_write().map_err(io)?;
        {
            let mut objects = txn.open_table(OBJECTS).map_err(io)?;
            let mut log = txn.open_table(LOG).map_err(io)?;
            for change in changes {
                let key = change.key.encode();
                match change.kind {
                    EventType::Deleted => {
                        objects.remove(key.as_str()).map_err(io)?;
                    }
                    _ => {
                        objects
                            .insert(key.as_str(), &change.object.bytes[..])
                            .map_err(io)?;
                    }
                }
                log.insert(
                    change.object.rv,
                    &encode_event(change.kind, &change.key, &change.object.bytes)[..],
                )
                .map_err(io)?;
            }
            let mut meta = txn.open_table(META).map_err(io)?;
            meta.insert("rv", rv).map_err(io)?;
            self.commits += 1;
            // Trim the log now and then, keeping `history` revisions.
            if self.commits.is_multiple_of(256) {
                let len = log.len().map_err(io)? as usize;
                if len > self.history {
                    let cut = rv.saturating_sub(self.history as u64);
                    log.retain_in(..=cut, |_, _| false).map_err(io)?;
                    meta.insert("compacted", cut).map_err(io)?;
                }
            }
        }
        txn.commit().map_err(io)?;
        Ok(())
    }
}
