//! Reading a chart `.tgz` into memory safely: no links, no path escapes, bounded sizes.
//!
//! A chart archive is a gzip-compressed tar holding one top-level directory named after the
//! chart (`mychart/Chart.yaml`, `mychart/templates/...`). [`read_chart_archive`] returns the
//! regular files with that directory stripped, and refuses anything that could write outside
//! the chart, smuggle in links or devices, or expand without bound.
//!
//! Bounds: every byte of every entry body the reader consumes — file contents, and the few
//! bytes of tar metadata (long names, PAX records) and skipped bodies — counts against
//! [`Limits::max_total_bytes`]; no body is skipped unread, and a size in a header serves
//! only to refuse an entry early, never to allocate beyond the limits. Tar headers and padding add at most 1 KiB per entry, and entries
//! are capped by [`Limits::max_entries`], so the decompressed stream a hostile archive can
//! make this reader consume is bounded by `max_total_bytes + 1 KiB × max_entries`, and the
//! memory it can make it hold by `max_total_bytes` plus a few MiB.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most data a tar metadata entry (GNU long name or link, PAX record set, global
/// header) or a skipped body (say, of a directory entry) may carry: Go's `archive/tar`
/// uses the same bound.
pub const MAX_METADATA_BYTES: u64 = 1 << 20;

/// Size limits applied while reading an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest one file may be once decompressed.
    pub max_file_bytes: u64,
    /// The most the whole archive may expand to (entry bodies, see the module docs).
    pub max_total_bytes: u64,
    /// The most tar entries (files, directories and metadata entries alike).
    pub max_entries: usize,
}

impl Default for Limits {
    /// Helm's limits — 5 MiB per file, 100 MiB in all — and at most 100 000 entries.
    fn default() -> Self {
        Limits {
            max_file_bytes: 5 << 20,
            max_total_bytes: 100 << 20,
            max_entries: 100_000,
        }
    }
}

/// A regular file read from a chart archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveFile {
    /// The path relative to the chart root, `/`-separated (`templates/deployment.yaml`).
    pub path: String,
    /// The contents, a leading UTF-8 byte-order mark removed.
    pub data: Vec<u8>,
}

/// Why a chart archive was refused. Entry names are given as stored in the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The data does not start like a gzip stream.
    #[error(
        "not a gzip-compressed chart archive: a chart archive is a .tgz file (starting with \
         the bytes 1f 8b); package the chart directory first"
    )]
    NotGzip,
    /// The gzip or tar data is damaged or cut short, or reading failed.
    #[error(
        "cannot read the chart archive: {source}; the file is truncated or corrupt, download \
         or package it again"
    )]
    Read {
        /// The decompression, tar or I/O error.
        source: io::Error,
    },
    /// An entry's data stops before the size its header announces.
    #[error(
        "archive entry {entry:?} is cut short ({read} of {expected} bytes): the archive is \
         truncated, download or package it again"
    )]
    Truncated {
        /// The entry.
        entry: String,
        /// Bytes the header announces.
        expected: u64,
        /// Bytes actually there.
        read: u64,
    },
    /// An entry name starting with `/`.
    #[error(
        "archive entry {entry:?} has an absolute path: a chart archive may only hold paths \
         relative to its chart directory"
    )]
    AbsolutePath {
        /// The entry.
        entry: String,
    },
    /// An entry name with a `..` component.
    #[error(
        "archive entry {entry:?} leaves the chart (path traversal): a chart archive may not \
         refer to parent directories"
    )]
    PathTraversal {
        /// The entry.
        entry: String,
    },
    /// An entry name with a backslash or a Windows drive (`C:`).
    #[error(
        "archive entry {entry:?} has a Windows-style name (a backslash or a drive such as \
         `C:`): chart archives use `/`-separated relative paths; package the chart again"
    )]
    WindowsPath {
        /// The entry.
        entry: String,
    },
    /// An entry name that is not UTF-8.
    #[error(
        "archive entry {entry:?} has a name that is not valid UTF-8: rename the file and \
         package the chart again"
    )]
    NonUtf8Name {
        /// The entry, invalid bytes replaced.
        entry: String,
    },
    /// A symbolic or hard link.
    #[error(
        "archive entry {entry:?} is a {kind} to {target:?}: charts in archives may not \
         contain links; replace the link with a copy of the file and package the chart again"
    )]
    Link {
        /// The link.
        entry: String,
        /// Where it points.
        target: String,
        /// `symbolic link` or `hard link`.
        kind: &'static str,
    },
    /// A device, FIFO, sparse file or entry of an unknown type.
    #[error(
        "archive entry {entry:?} is a {kind}: a chart archive may hold only regular files \
         and directories"
    )]
    Unsupported {
        /// The entry.
        entry: String,
        /// What it is (`character device`, `FIFO`, `entry of unknown type 'Z'`…).
        kind: String,
    },
    /// An entry at the top level instead of inside the chart directory.
    #[error(
        "archive entry {entry:?} is not inside a chart directory: a chart archive must keep \
         every file under one top-level directory named after the chart (e.g. \
         \"mychart/Chart.yaml\")"
    )]
    NotInChartDirectory {
        /// The entry.
        entry: String,
    },
    /// An entry under a second top-level directory.
    #[error(
        "archive entry {entry:?} is outside the chart directory {chart_dir:?}: a chart \
         archive must hold exactly one top-level directory; package each chart on its own"
    )]
    SecondTopDirectory {
        /// The entry.
        entry: String,
        /// The chart directory, from the archive's first entry.
        chart_dir: String,
    },
    /// A file whose path is also used as a directory (`a` and `a/b` both files).
    #[error(
        "archive entry {entry:?} clashes with {other:?}: one path cannot be both a file and a \
         directory"
    )]
    PathConflict {
        /// The later entry.
        entry: String,
        /// The chart path it clashes with.
        other: String,
    },
    /// A file larger than [`Limits::max_file_bytes`].
    #[error(
        "archive entry {entry:?} is larger than the limit of {limit} bytes for one file: \
         remove the file from the chart (or list it in .helmignore) and package it again"
    )]
    FileTooLarge {
        /// The entry.
        entry: String,
        /// The limit.
        limit: u64,
    },
    /// The archive expands beyond [`Limits::max_total_bytes`].
    #[error(
        "archive expands beyond {limit} bytes: refusing a possible decompression bomb (the \
         limit was crossed at entry {entry:?})"
    )]
    TooLarge {
        /// The entry being read when the limit was crossed.
        entry: String,
        /// The limit.
        limit: u64,
    },
    /// More than [`Limits::max_entries`] tar entries.
    #[error(
        "archive has more than {limit} entries: refusing a possible archive bomb (the limit \
         was crossed at entry {entry:?})"
    )]
    TooManyEntries {
        /// The entry past the limit.
        entry: String,
        /// The limit.
        limit: usize,
    },
    /// A malformed or ambiguous tar metadata entry (long name, PAX records).
    #[error("archive entry {entry:?} has a bad header: {reason}; package the chart again")]
    BadHeader {
        /// The entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// No regular file at all.
    #[error("the archive holds no files: is it a chart archive?")]
    Empty,
}

/// Reads a gzip-compressed tar of one chart (`<name>/Chart.yaml`, `<name>/templates/...`)
/// and returns its regular files, the top directory stripped from their paths, in archive
/// order.
///
/// Directory entries are skipped, and so are PAX global headers (such as the
/// `pax_global_header` that `git archive` writes); GNU and PAX long names are understood.
/// Refused, with an error naming the entry: absolute paths, `..` components, backslashes
/// and Windows drives (`C:`) in names, links, devices, FIFOs, sparse files and other
/// entry types, entries outside the one chart directory, and anything over `limits`.
/// `.` components and a leading `./` are dropped (`./mychart/Chart.yaml` is fine);
/// contiguous files (type `7`) count as regular files, and a regular entry whose name ends
/// in `/` as a directory, as old tars write them.
///
/// When two entries have the same path, the later one wins, as when a tar is extracted:
/// the file keeps the place of its first appearance and takes the later contents. (Both
/// count toward the size limit.)
pub fn read_chart_archive<R: Read>(
    mut reader: R,
    limits: &Limits,
) -> Result<Vec<ArchiveFile>, ArchiveError> {
    let mut magic = [0u8; 2];
    let mut have = 0;
    while have < magic.len() {
        match reader.read(&mut magic[have..]) {
            Ok(0) => return Err(ArchiveError::NotGzip),
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(ArchiveError::Read { source }),
        }
    }
    if magic != GZIP_MAGIC {
        return Err(ArchiveError::NotGzip);
    }
    let gzip = flate2::read::MultiGzDecoder::new(io::Cursor::new(magic).chain(reader));
    let mut archive = tar::Archive::new(gzip);
    let read_err = |source| ArchiveError::Read { source };
    // Raw entries: long names and PAX records are handled here, with bounded reads.
    let entries = archive.entries().map_err(read_err)?.raw(true);
    let mut state = State::new(limits);
    for entry in entries {
        let mut entry = entry.map_err(read_err)?;
        state.entry(&mut entry)?;
    }
    state.finish()
}

/// Same as [`read_chart_archive`], from bytes; says "not a gzip-compressed chart archive"
/// unless they start with the gzip magic bytes.
pub fn read_chart_archive_bytes(
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<ArchiveFile>, ArchiveError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Err(ArchiveError::NotGzip);
    }
    read_chart_archive(bytes, limits)
}

/// Metadata entries waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    /// The raw name of the first metadata entry, for messages about a dangling one.
    first: Option<String>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Pax>,
}

/// The PAX records this reader cares about.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    link_path: Option<Vec<u8>>,
    size: Option<u64>,
    sparse: bool,
}

struct State<'l> {
    limits: &'l Limits,
    entries: usize,
    /// Bytes of entry bodies consumed so far.
    total: u64,
    /// The chart directory: the first path component of the first named entry.
    chart_dir: Option<String>,
    pending: Pending,
    files: Vec<ArchiveFile>,
    /// Index into `files` by chart path.
    index: HashMap<String, usize>,
    /// Every directory some file lies in, by chart path.
    dirs: HashSet<String>,
}

impl<'l> State<'l> {
    fn new(limits: &'l Limits) -> Self {
        State {
            limits,
            entries: 0,
            total: 0,
            chart_dir: None,
            pending: Pending::default(),
            files: Vec::new(),
            index: HashMap::new(),
            dirs: HashSet::new(),
        }
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let header_name = lossy(&entry.path_bytes());
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                entry: header_name,
                limit: self.limits.max_entries,
            });
        }
        let header = entry.header();
        let kind = header.entry_type();
        let size = header
            .entry_size()
            .map_err(|e| bad_header(&header_name, e.to_string()))?;

        // Metadata entries describe the next entry.
        if kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions() {
            let data = self.read_metadata(entry, &header_name, size)?;
            self.pending
                .first
                .get_or_insert_with(|| header_name.clone());
            let (slot, what) = if kind.is_gnu_longname() {
                (&mut self.pending.long_name, "GNU long name")
            } else if kind.is_gnu_longlink() {
                (&mut self.pending.long_link, "GNU long link name")
            } else {
                let pax = parse_pax(&data).map_err(|reason| bad_header(&header_name, reason))?;
                if self.pending.pax.replace(pax).is_some() {
                    return Err(bad_header(
                        &header_name,
                        "two PAX headers describe the same entry".into(),
                    ));
                }
                return Ok(());
            };
            // Go cuts a GNU long name at its first NUL.
            let name = data.split(|&b| b == 0).next().unwrap_or_default().to_vec();
            if slot.replace(name).is_some() {
                return Err(bad_header(
                    &header_name,
                    format!("two {what} entries describe the same entry"),
                ));
            }
            return Ok(());
        }
        if kind.is_pax_global_extensions() {
            // `git archive` writes one (`pax_global_header`, holding the commit id).
            if self.pending.first.is_some() {
                return Err(bad_header(
                    &header_name,
                    "a PAX global header sits between an entry and its metadata".into(),
                ));
            }
            self.skip_body(entry, &header_name, size)?;
            return Ok(());
        }

        // An entry proper: take its metadata.
        let pending = std::mem::take(&mut self.pending);
        let pax = pending.pax.unwrap_or_default();
        let name_bytes = match (pending.long_name, pax.path) {
            (Some(long), Some(pax_path)) if long != pax_path => {
                return Err(bad_header(
                    &header_name,
                    format!(
                        "its GNU long name {:?} and PAX path {:?} disagree",
                        lossy(&long),
                        lossy(&pax_path)
                    ),
                ));
            }
            (Some(long), _) => long,
            (None, Some(pax_path)) => pax_path,
            (None, None) => entry.path_bytes().into_owned(),
        };
        let name = match String::from_utf8(name_bytes) {
            Ok(name) => name,
            Err(e) => {
                return Err(ArchiveError::NonUtf8Name {
                    entry: lossy(e.as_bytes()),
                });
            }
        };
        if let Some(pax_size) = pax.size
            && pax_size != size
        {
            return Err(bad_header(
                &name,
                format!(
                    "its PAX size ({pax_size}) disagrees with its header size ({size}), \
                     so tar readers could disagree on its contents"
                ),
            ));
        }
        let link_target = || {
            let bytes = pending
                .long_link
                .clone()
                .or_else(|| pax.link_path.clone())
                .or_else(|| entry.link_name_bytes().map(|b| b.into_owned()))
                .unwrap_or_default();
            lossy(&bytes)
        };

        use tar::EntryType;
        let is_dir = match kind {
            EntryType::Directory => true,
            EntryType::Regular | EntryType::Continuous if pax.sparse => {
                return Err(unsupported(&name, "sparse file".into()));
            }
            // A pre-POSIX tar marks directories with a trailing `/` on a regular entry.
            EntryType::Regular | EntryType::Continuous => name.ends_with('/'),
            EntryType::Symlink => {
                return Err(ArchiveError::Link {
                    entry: name,
                    target: link_target(),
                    kind: "symbolic link",
                });
            }
            EntryType::Link => {
                return Err(ArchiveError::Link {
                    entry: name,
                    target: link_target(),
                    kind: "hard link",
                });
            }
            EntryType::Char => return Err(unsupported(&name, "character device".into())),
            EntryType::Block => return Err(unsupported(&name, "block device".into())),
            EntryType::Fifo => return Err(unsupported(&name, "FIFO (named pipe)".into())),
            EntryType::GNUSparse => return Err(unsupported(&name, "sparse file".into())),
            other => {
                let flag = char::from(other.as_byte());
                return Err(unsupported(
                    &name,
                    format!("entry of unsupported type {flag:?}"),
                ));
            }
        };

        let Some(chart_path) = self.chart_path(&name, is_dir)? else {
            return self.skip_body(entry, &name, size);
        };
        if is_dir {
            self.add_dirs(&name, chart_path.trim_end_matches('/'))?;
            return self.skip_body(entry, &name, size);
        }
        let data = self.read_file(entry, &name, size)?;
        self.add_file(&name, chart_path, data)
    }

    /// Checks an entry name and turns it into a chart path (the chart directory stripped).
    /// `None` for the chart directory itself (or a `./` entry).
    fn chart_path(&mut self, name: &str, is_dir: bool) -> Result<Option<String>, ArchiveError> {
        let entry = || name.to_owned();
        if name.contains('\\') {
            return Err(ArchiveError::WindowsPath { entry: entry() });
        }
        if name.starts_with('/') {
            return Err(ArchiveError::AbsolutePath { entry: entry() });
        }
        let parts: Vec<&str> = name
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect();
        for part in &parts {
            if *part == ".." {
                return Err(ArchiveError::PathTraversal { entry: entry() });
            }
            let bytes = part.as_bytes();
            if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
                return Err(ArchiveError::WindowsPath { entry: entry() });
            }
        }
        let (top, rest) = match parts.split_first() {
            Some((top, rest)) if is_dir || !rest.is_empty() => (*top, rest),
            None if is_dir => return Ok(None),
            _ => return Err(ArchiveError::NotInChartDirectory { entry: entry() }),
        };
        match &self.chart_dir {
            Some(chart_dir) if chart_dir != top => {
                return Err(ArchiveError::SecondTopDirectory {
                    entry: entry(),
                    chart_dir: chart_dir.clone(),
                });
            }
            Some(_) => {}
            None => self.chart_dir = Some(top.to_owned()),
        }
        if rest.is_empty() {
            return Ok(None);
        }
        Ok(Some(rest.join("/")))
    }

    fn add_file(&mut self, name: &str, rel: String, mut data: Vec<u8>) -> Result<(), ArchiveError> {
        super::load::strip_bom(&mut data);
        if let Some(&at) = self.index.get(&rel) {
            self.files[at].data = data;
            return Ok(());
        }
        if self.dirs.contains(&rel) {
            return Err(conflict(name, &rel));
        }
        if let Some(slash) = rel.rfind('/') {
            self.add_dirs(name, &rel[..slash])?;
        }
        self.index.insert(rel.clone(), self.files.len());
        self.files.push(ArchiveFile { path: rel, data });
        Ok(())
    }

    /// Records `dir` and its ancestors as directories; none of them may be a file.
    fn add_dirs(&mut self, name: &str, mut dir: &str) -> Result<(), ArchiveError> {
        loop {
            if self.index.contains_key(dir) {
                return Err(conflict(name, dir));
            }
            // A directory already known had its ancestors checked and recorded with it.
            if !self.dirs.insert(dir.to_owned()) {
                return Ok(());
            }
            match dir.rfind('/') {
                Some(slash) => dir = &dir[..slash],
                None => return Ok(()),
            }
        }
    }

    /// The bytes the archive may still expand to.
    fn total_left(&self) -> u64 {
        self.limits.max_total_bytes.saturating_sub(self.total)
    }

    /// Counts `n` more body bytes against the total.
    fn count(&mut self, name: &str, n: u64) -> Result<(), ArchiveError> {
        self.total = self.total.saturating_add(n);
        if self.total > self.limits.max_total_bytes {
            return Err(self.too_large(name));
        }
        Ok(())
    }

    fn too_large(&self, name: &str) -> ArchiveError {
        ArchiveError::TooLarge {
            entry: name.to_owned(),
            limit: self.limits.max_total_bytes,
        }
    }

    /// Reads a regular file's contents, never more than the limits allow.
    fn read_file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        size: u64,
    ) -> Result<Vec<u8>, ArchiveError> {
        let file_limit = self.limits.max_file_bytes;
        let too_large = || ArchiveError::FileTooLarge {
            entry: name.to_owned(),
            limit: file_limit,
        };
        // The header's word is enough to refuse early, never to allocate.
        if size > file_limit {
            return Err(too_large());
        }
        if size > self.total_left() {
            return Err(self.too_large(name));
        }
        let cap = file_limit.min(self.total_left());
        let mut data = Vec::with_capacity(usize::try_from(size.min(cap)).unwrap_or(0));
        entry
            .take(cap.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|source| ArchiveError::Read { source })?;
        let read = data.len() as u64;
        if read > file_limit {
            return Err(too_large());
        }
        self.count(name, read)?;
        if read < size {
            return Err(ArchiveError::Truncated {
                entry: name.to_owned(),
                expected: size,
                read,
            });
        }
        Ok(data)
    }

    /// Reads a metadata entry's body (at most [`MAX_METADATA_BYTES`]).
    fn read_metadata<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        size: u64,
    ) -> Result<Vec<u8>, ArchiveError> {
        let mut data = Vec::new();
        self.bounded_body(entry, name, size, &mut data)?;
        Ok(data)
    }

    /// Reads and drops a body nobody needs (at most [`MAX_METADATA_BYTES`]), so that the
    /// tar reader never skips an unbounded amount of data.
    fn skip_body<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        size: u64,
    ) -> Result<(), ArchiveError> {
        if size == 0 {
            return Ok(());
        }
        let mut sink = Vec::new();
        self.bounded_body(entry, name, size, &mut sink)
    }

    fn bounded_body<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        size: u64,
        data: &mut Vec<u8>,
    ) -> Result<(), ArchiveError> {
        let too_big = || {
            bad_header(
                name,
                format!("it carries more than {MAX_METADATA_BYTES} bytes of metadata"),
            )
        };
        if size > MAX_METADATA_BYTES {
            return Err(too_big());
        }
        if size > self.total_left() {
            return Err(self.too_large(name));
        }
        entry
            .take(MAX_METADATA_BYTES.min(self.total_left()).saturating_add(1))
            .read_to_end(data)
            .map_err(|source| ArchiveError::Read { source })?;
        let read = data.len() as u64;
        if read > MAX_METADATA_BYTES {
            return Err(too_big());
        }
        self.count(name, read)?;
        if read < size {
            return Err(ArchiveError::Truncated {
                entry: name.to_owned(),
                expected: size,
                read,
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<ArchiveFile>, ArchiveError> {
        if let Some(first) = self.pending.first {
            return Err(bad_header(
                &first,
                "the archive ends before the entry this metadata describes".into(),
            ));
        }
        if self.files.is_empty() {
            return Err(ArchiveError::Empty);
        }
        Ok(self.files)
    }
}

/// Parses PAX extended header records (`"<len> <key>=<value>\n"`, repeated).
fn parse_pax(mut data: &[u8]) -> Result<Pax, String> {
    let mut pax = Pax::default();
    while !data.is_empty() {
        // Some writers pad the records with NULs.
        if data.iter().all(|&b| b == 0) {
            break;
        }
        let malformed = || "its PAX records are malformed".to_owned();
        let space = data.iter().position(|&b| b == b' ').ok_or_else(malformed)?;
        let digits = &data[..space];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(malformed());
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or_else(malformed)?;
        if len <= space + 1 || len > data.len() {
            return Err(malformed());
        }
        let record = data[space + 1..len]
            .strip_suffix(b"\n")
            .ok_or_else(malformed)?;
        data = &data[len..];
        let equals = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(malformed)?;
        let (key, value) = (&record[..equals], &record[equals + 1..]);
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.link_path = Some(value.to_vec()),
            b"size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("its PAX size {:?} is not a number", lossy(value)))?;
                pax.size = Some(size);
            }
            _ if key.starts_with(b"GNU.sparse.") => pax.sparse = true,
            _ => {}
        }
    }
    Ok(pax)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn conflict(entry: &str, other: &str) -> ArchiveError {
    ArchiveError::PathConflict {
        entry: entry.to_owned(),
        other: other.to_owned(),
    }
}

fn bad_header(entry: &str, reason: String) -> ArchiveError {
    ArchiveError::BadHeader {
        entry: entry.to_owned(),
        reason,
    }
}

fn unsupported(entry: &str, kind: String) -> ArchiveError {
    ArchiveError::Unsupported {
        entry: entry.to_owned(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    use tar::{EntryType, Header};

    /// Builds test archives entry by entry, honest or malicious.
    struct Tgz {
        builder: tar::Builder<Vec<u8>>,
    }

    impl Tgz {
        fn new() -> Self {
            Tgz {
                builder: tar::Builder::new(Vec::new()),
            }
        }

        /// A regular file through the tar crate's checked path (long names become GNU
        /// long-name entries).
        fn file(mut self, path: &str, data: &[u8]) -> Self {
            let mut header = Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(EntryType::Regular);
            self.builder.append_data(&mut header, path, data).unwrap();
            self
        }

        fn dir(mut self, path: &str) -> Self {
            let mut header = Header::new_gnu();
            header.set_size(0);
            header.set_mode(0o755);
            header.set_entry_type(EntryType::Directory);
            self.builder
                .append_data(&mut header, path, io::empty())
                .unwrap();
            self
        }

        /// Any entry, its name bytes written straight into the header (no checks).
        fn raw(self, name: &[u8], kind: EntryType, data: &[u8]) -> Self {
            self.raw_with(name, kind, data, |_| {})
        }

        fn raw_link(self, name: &[u8], kind: EntryType, target: &[u8]) -> Self {
            self.raw_with(name, kind, b"", |header| {
                header.as_old_mut().linkname[..target.len()].copy_from_slice(target);
            })
        }

        fn raw_with(
            mut self,
            name: &[u8],
            kind: EntryType,
            data: &[u8],
            edit: impl FnOnce(&mut Header),
        ) -> Self {
            let mut header = Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(kind);
            edit(&mut header);
            header.set_cksum();
            self.builder.append(&header, data).unwrap();
            self
        }

        /// A PAX extended header with these records, for the next entry.
        fn pax(self, records: &[(&str, &[u8])]) -> Self {
            let data: Vec<u8> = records
                .iter()
                .flat_map(|(key, value)| pax_record(key, value))
                .collect();
            self.raw(b"././@PaxHeader", EntryType::XHeader, &data)
        }

        fn tar(self) -> Vec<u8> {
            self.builder.into_inner().unwrap()
        }

        fn finish(self) -> Vec<u8> {
            gzip(&self.tar())
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let body = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = body + 1;
        while len != body + len.to_string().len() {
            len = body + len.to_string().len();
        }
        let mut record = format!("{len} {key}=").into_bytes();
        record.extend_from_slice(value);
        record.push(b'\n');
        record
    }

    fn read(bytes: &[u8]) -> Result<Vec<ArchiveFile>, ArchiveError> {
        read_chart_archive_bytes(bytes, &Limits::default())
    }

    fn paths(files: &[ArchiveFile]) -> Vec<&str> {
        files.iter().map(|f| f.path.as_str()).collect()
    }

    fn err(bytes: &[u8]) -> ArchiveError {
        match read(bytes) {
            Ok(files) => panic!("expected an error, read {:?}", paths(&files)),
            Err(e) => e,
        }
    }

    fn small_limits(file: u64, total: u64) -> Limits {
        Limits {
            max_file_bytes: file,
            max_total_bytes: total,
            max_entries: 100,
        }
    }

    const LONG_DIR: &str = "templates/a-rather-long-directory-name-for-testing/\
                            another-quite-long-directory-name-to-pass-the-limit";

    #[test]
    fn default_limits_are_helms() {
        let limits = Limits::default();
        assert_eq!(limits.max_file_bytes, 5 * 1024 * 1024);
        assert_eq!(limits.max_total_bytes, 100 * 1024 * 1024);
        assert_eq!(limits.max_entries, 100_000);
    }

    #[test]
    fn reads_a_chart_with_nested_directories_and_a_long_path() {
        let long = format!("mychart/{LONG_DIR}/configmap-with-a-long-name.yaml");
        assert!(long.len() > 100);
        let bytes = Tgz::new()
            .dir("mychart/")
            .file("mychart/Chart.yaml", b"name: mychart\n")
            .file("mychart/values.yaml", b"replicas: 1\n")
            .dir("mychart/templates/")
            .file("mychart/templates/deployment.yaml", b"kind: Deployment\n")
            .dir("mychart/templates/sub/deeper/")
            .file("mychart/templates/sub/deeper/_x.tpl", b"{{/* x */}}")
            .file(&long, b"kind: ConfigMap\n")
            .file("mychart/charts/dep/Chart.yaml", b"name: dep\n")
            .file("mychart/empty.txt", b"")
            .finish();
        let files = read(&bytes).unwrap();
        let long_rel = format!("{LONG_DIR}/configmap-with-a-long-name.yaml");
        assert_eq!(
            paths(&files),
            [
                "Chart.yaml",
                "values.yaml",
                "templates/deployment.yaml",
                "templates/sub/deeper/_x.tpl",
                long_rel.as_str(),
                "charts/dep/Chart.yaml",
                "empty.txt",
            ]
        );
        assert_eq!(files[0].data, b"name: mychart\n");
        assert_eq!(files[4].data, b"kind: ConfigMap\n");
        assert!(files[6].data.is_empty());
    }

    #[test]
    fn reads_pax_and_ustar_long_names() {
        let pax_name = format!("mychart/{LONG_DIR}/from-pax.yaml");
        let mut ustar = Header::new_ustar();
        let prefixed = format!("mychart/{LONG_DIR}/in-prefix.yaml");
        ustar.set_path(&prefixed).unwrap();
        ustar.set_size(2);
        ustar.set_entry_type(EntryType::Regular);
        ustar.set_cksum();
        let mut tgz = Tgz::new()
            .file("mychart/Chart.yaml", b"name: mychart\n")
            .pax(&[("mtime", b"1700000000.5"), ("path", pax_name.as_bytes())])
            .raw(b"mychart/truncated-name", EntryType::Regular, b"pax");
        tgz.builder.append(&ustar, &b"us"[..]).unwrap();
        let files = read(&tgz.finish()).unwrap();
        assert_eq!(
            paths(&files),
            [
                "Chart.yaml".to_owned(),
                format!("{LONG_DIR}/from-pax.yaml"),
                format!("{LONG_DIR}/in-prefix.yaml"),
            ]
        );
        assert_eq!(files[1].data, b"pax");
        assert_eq!(files[2].data, b"us");
    }

    #[test]
    fn skips_git_archives_global_header() {
        let bytes = Tgz::new()
            .raw(
                b"pax_global_header",
                EntryType::XGlobalHeader,
                &pax_record("comment", b"0123456789abcdef0123456789abcdef01234567"),
            )
            .dir("mychart/")
            .file("mychart/Chart.yaml", b"name: mychart\n")
            .finish();
        assert_eq!(paths(&read(&bytes).unwrap()), ["Chart.yaml"]);
    }

    #[test]
    fn accepts_dot_slash_prefixes_and_old_style_directories() {
        let bytes = Tgz::new()
            .raw(b"./", EntryType::Directory, b"")
            .raw(b"./mychart/", EntryType::Directory, b"")
            .raw(b"./mychart/Chart.yaml", EntryType::Regular, b"name: x\n")
            .raw(b"mychart/./templates/a.yaml", EntryType::Regular, b"a")
            // A pre-POSIX directory: a regular entry whose name ends in `/`.
            .raw(b"mychart/files/", EntryType::new(0), b"")
            .finish();
        assert_eq!(
            paths(&read(&bytes).unwrap()),
            ["Chart.yaml", "templates/a.yaml"]
        );
    }

    #[test]
    fn refuses_path_traversal() {
        for name in [
            &b"../evil"[..],
            b"mychart/../../evil",
            b"mychart/templates/../../evil",
            b"mychart/..",
        ] {
            let bytes = Tgz::new()
                .file("mychart/Chart.yaml", b"name: x\n")
                .raw(name, EntryType::Regular, b"x")
                .finish();
            let e = err(&bytes);
            assert!(
                matches!(&e, ArchiveError::PathTraversal { entry } if entry.as_bytes() == name),
                "{e:?}"
            );
        }
        let e = err(&Tgz::new()
            .raw(b"../evil", EntryType::Regular, b"x")
            .finish());
        assert_eq!(
            e.to_string(),
            "archive entry \"../evil\" leaves the chart (path traversal): a chart archive \
             may not refer to parent directories"
        );
        // Directory entries too.
        let e = err(&Tgz::new().raw(b"../", EntryType::Directory, b"").finish());
        assert!(matches!(e, ArchiveError::PathTraversal { .. }), "{e:?}");
    }

    #[test]
    fn refuses_absolute_paths() {
        let bytes = Tgz::new()
            .raw(b"/etc/cron.d/evil", EntryType::Regular, b"x")
            .finish();
        let e = err(&bytes);
        assert!(matches!(&e, ArchiveError::AbsolutePath { entry } if entry == "/etc/cron.d/evil"));
        assert!(e.to_string().contains("absolute path"), "{e}");
        // Via a PAX path as well.
        let bytes = Tgz::new()
            .pax(&[("path", b"/etc/passwd")])
            .raw(b"mychart/harmless", EntryType::Regular, b"x")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::AbsolutePath { entry } if entry == "/etc/passwd")
        );
    }

    #[test]
    fn refuses_windows_paths() {
        for name in [
            &b"C:/evil"[..],
            b"c:evil",
            b"mychart/C:/evil",
            b"mychart\\templates\\x.yaml",
            b"mychart/..\\..\\evil",
        ] {
            let bytes = Tgz::new().raw(name, EntryType::Regular, b"x").finish();
            let e = err(&bytes);
            assert!(
                matches!(&e, ArchiveError::WindowsPath { entry } if entry.as_bytes() == name),
                "{name:?}: {e:?}"
            );
            assert!(e.to_string().contains("Windows-style"), "{e}");
        }
    }

    #[test]
    fn refuses_links_naming_link_and_target() {
        let bytes = Tgz::new()
            .file("mychart/Chart.yaml", b"name: x\n")
            .raw_link(
                b"mychart/templates/x.yaml",
                EntryType::Symlink,
                b"/etc/passwd",
            )
            .finish();
        let e = err(&bytes);
        assert!(
            matches!(&e, ArchiveError::Link { entry, target, kind: "symbolic link" }
                if entry == "mychart/templates/x.yaml" && target == "/etc/passwd"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "archive entry \"mychart/templates/x.yaml\" is a symbolic link to \"/etc/passwd\": \
             charts in archives may not contain links; replace the link with a copy of the file \
             and package the chart again"
        );
        let bytes = Tgz::new()
            .file("mychart/Chart.yaml", b"name: x\n")
            .raw_link(
                b"mychart/values.yaml",
                EntryType::Link,
                b"mychart/Chart.yaml",
            )
            .finish();
        let e = err(&bytes);
        assert!(
            matches!(&e, ArchiveError::Link { entry, target, kind: "hard link" }
                if entry == "mychart/values.yaml" && target == "mychart/Chart.yaml"),
            "{e:?}"
        );
        // A harmless-looking target is refused all the same, and PAX link paths are read.
        let bytes = Tgz::new()
            .pax(&[("linkpath", b"../../../etc/shadow")])
            .raw_link(b"mychart/x", EntryType::Symlink, b"short")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::Link { target, .. } if target == "../../../etc/shadow")
        );
    }

    #[test]
    fn refuses_devices_fifos_and_other_types() {
        let cases: [(EntryType, &str); 5] = [
            (EntryType::Char, "character device"),
            (EntryType::Block, "block device"),
            (EntryType::Fifo, "FIFO (named pipe)"),
            (EntryType::GNUSparse, "sparse file"),
            (EntryType::new(b'Z'), "entry of unsupported type 'Z'"),
        ];
        for (kind, want) in cases {
            let bytes = Tgz::new()
                .file("mychart/Chart.yaml", b"name: x\n")
                .raw(b"mychart/dev", kind, b"")
                .finish();
            let e = err(&bytes);
            assert!(
                matches!(&e, ArchiveError::Unsupported { entry, kind } if entry == "mychart/dev" && kind == want),
                "{e:?}"
            );
            assert!(
                e.to_string().contains("only regular files and directories"),
                "{e}"
            );
        }
        // PAX-format sparse files.
        let bytes = Tgz::new()
            .pax(&[("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")])
            .raw(b"mychart/sparse", EntryType::Regular, b"")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::Unsupported { kind, .. } if kind == "sparse file")
        );
    }

    #[test]
    fn refuses_files_outside_the_chart_directory() {
        let e = err(&Tgz::new().file("Chart.yaml", b"name: x\n").finish());
        assert!(matches!(&e, ArchiveError::NotInChartDirectory { entry } if entry == "Chart.yaml"));
        assert!(
            e.to_string().contains("not inside a chart directory"),
            "{e}"
        );
        let bytes = Tgz::new()
            .file("mychart/Chart.yaml", b"name: x\n")
            .file("README.md", b"hi")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::NotInChartDirectory { entry } if entry == "README.md")
        );
        let bytes = Tgz::new()
            .raw(b"./Chart.yaml", EntryType::Regular, b"name: x\n")
            .finish();
        assert!(matches!(
            err(&bytes),
            ArchiveError::NotInChartDirectory { .. }
        ));
        // `./` as an old-style directory entry is only the archive root.
        let bytes = Tgz::new().raw(b"./", EntryType::Regular, b"").finish();
        assert!(matches!(err(&bytes), ArchiveError::Empty));
    }

    #[test]
    fn refuses_a_second_top_directory() {
        let bytes = Tgz::new()
            .file("mychart/Chart.yaml", b"name: x\n")
            .file("other/Chart.yaml", b"name: y\n")
            .finish();
        let e = err(&bytes);
        assert!(
            matches!(&e, ArchiveError::SecondTopDirectory { entry, chart_dir }
                if entry == "other/Chart.yaml" && chart_dir == "mychart"),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("exactly one top-level directory"),
            "{e}"
        );
        let bytes = Tgz::new()
            .dir("mychart/")
            .dir("other/")
            .file("mychart/Chart.yaml", b"name: x\n")
            .finish();
        assert!(matches!(
            err(&bytes),
            ArchiveError::SecondTopDirectory { .. }
        ));
    }

    #[test]
    fn file_exactly_at_the_limit_passes_one_byte_more_fails() {
        let limits = small_limits(1000, 1_000_000);
        let at = Tgz::new().file("c/at.bin", &[7; 1000]).finish();
        let files = read_chart_archive_bytes(&at, &limits).unwrap();
        assert_eq!(files[0].data.len(), 1000);
        let over = Tgz::new().file("c/over.bin", &[7; 1001]).finish();
        let e = read_chart_archive_bytes(&over, &limits).unwrap_err();
        assert!(
            matches!(&e, ArchiveError::FileTooLarge { entry, limit: 1000 } if entry == "c/over.bin"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains("\"c/over.bin\" is larger than the limit of 1000 bytes"),
            "{e}"
        );
    }

    #[test]
    fn total_exactly_at_the_limit_passes_one_byte_more_fails() {
        let limits = small_limits(1000, 1500);
        let at = Tgz::new()
            .file("c/a.bin", &[1; 1000])
            .file("c/b.bin", &[2; 500])
            .finish();
        assert_eq!(read_chart_archive_bytes(&at, &limits).unwrap().len(), 2);
        let over = Tgz::new()
            .file("c/a.bin", &[1; 1000])
            .file("c/b.bin", &[2; 501])
            .finish();
        let e = read_chart_archive_bytes(&over, &limits).unwrap_err();
        assert!(
            matches!(&e, ArchiveError::TooLarge { entry, limit: 1500 } if entry == "c/b.bin"),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(
                "archive expands beyond 1500 bytes: refusing a possible decompression bomb"
            ),
            "{e}"
        );
    }

    #[test]
    fn entry_count_is_limited() {
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let three = Tgz::new()
            .dir("c/")
            .file("c/a", b"a")
            .file("c/b", b"b")
            .finish();
        assert_eq!(read_chart_archive_bytes(&three, &limits).unwrap().len(), 2);
        let four = Tgz::new()
            .dir("c/")
            .file("c/a", b"a")
            .file("c/b", b"b")
            .file("c/d", b"d")
            .finish();
        let e = read_chart_archive_bytes(&four, &limits).unwrap_err();
        assert!(
            matches!(&e, ArchiveError::TooManyEntries { entry, limit: 3 } if entry == "c/d"),
            "{e:?}"
        );
    }

    /// Counts the compressed bytes a reader takes.
    struct Counting<'a> {
        inner: &'a [u8],
        taken: usize,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.taken += n;
            Ok(n)
        }
    }

    /// A tgz whose one file is `size` zero bytes, compressed as it is generated.
    fn zero_bomb(size: u64) -> Vec<u8> {
        let mut header = Header::new_gnu();
        header.set_path("bomb/zeros.bin").unwrap();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_cksum();
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(header.as_bytes()).unwrap();
        let block = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(block.len() as u64);
            encoder.write_all(&block[..n as usize]).unwrap();
            left -= n;
        }
        // Padding to the block, then the two end-of-archive blocks.
        let pad = (512 - size % 512) % 512;
        encoder.write_all(&vec![0; pad as usize + 1024]).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_fails_fast_within_the_limit() {
        let size = 200 << 20;
        let bomb = zero_bomb(size);
        assert!(
            bomb.len() < 2 << 20,
            "the bomb should compress well: {}",
            bomb.len()
        );

        // A generous per-file limit: the total limit stops the read after 1 MiB.
        let limits = small_limits(1 << 30, 1 << 20);
        let mut input = Counting {
            inner: &bomb,
            taken: 0,
        };
        let e = read_chart_archive(&mut input, &limits).unwrap_err();
        assert!(
            matches!(&e, ArchiveError::TooLarge { entry, limit } if entry == "bomb/zeros.bin" && *limit == 1 << 20),
            "{e:?}"
        );
        assert!(
            input.taken < bomb.len() / 20,
            "read {} of {} compressed bytes",
            input.taken,
            bomb.len()
        );

        // With Helm's limits the header alone condemns it.
        let e = read(&bomb).unwrap_err();
        assert!(
            matches!(e, ArchiveError::FileTooLarge { limit, .. } if limit == 5 << 20),
            "{e:?}"
        );
    }

    #[test]
    fn lying_header_sizes_allocate_nothing() {
        // A header announcing 8 GiB with almost nothing behind it.
        let mut header = Header::new_gnu();
        header.set_path("c/huge").unwrap();
        header.set_size(8 << 30);
        header.set_cksum();
        let mut tar = header.as_bytes().to_vec();
        tar.extend_from_slice(&[b'x'; 512]);
        let e = read(&gzip(&tar)).unwrap_err();
        assert!(matches!(e, ArchiveError::FileTooLarge { .. }), "{e:?}");
        // Within the limits but cut short.
        let mut header = Header::new_gnu();
        header.set_path("c/short").unwrap();
        header.set_size(4096);
        header.set_cksum();
        let mut tar = header.as_bytes().to_vec();
        tar.extend_from_slice(&[b'x'; 100]);
        let e = read(&gzip(&tar)).unwrap_err();
        assert!(
            matches!(&e, ArchiveError::Truncated { entry, expected: 4096, read: 100 } if entry == "c/short"),
            "{e:?}"
        );
    }

    #[test]
    fn metadata_bodies_are_bounded() {
        // A 200 MiB GNU long name and a directory entry with a 200 MiB body.
        for kind in [
            EntryType::GNULongName,
            EntryType::Directory,
            EntryType::XGlobalHeader,
        ] {
            let mut header = Header::new_gnu();
            header.as_old_mut().name[..6].copy_from_slice(b"c/meta");
            header.set_entry_type(kind);
            header.set_size(200 << 20);
            header.set_cksum();
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(header.as_bytes()).unwrap();
            encoder.write_all(&vec![b'a'; 2 << 20]).unwrap();
            let bytes = encoder.finish().unwrap();
            let e = read(&bytes).unwrap_err();
            assert!(
                matches!(&e, ArchiveError::BadHeader { reason, .. } if reason.contains("more than 1048576 bytes")),
                "{kind:?}: {e:?}"
            );
        }
        // Small metadata counts toward the total like everything else.
        let bytes = Tgz::new()
            .pax(&[("comment", &[b'x'; 600])])
            .raw(b"c/a", EntryType::Regular, b"a")
            .finish();
        let e = read_chart_archive_bytes(&bytes, &small_limits(100, 500)).unwrap_err();
        assert!(matches!(e, ArchiveError::TooLarge { .. }), "{e:?}");
    }

    #[test]
    fn strips_a_leading_utf8_bom() {
        let bytes = Tgz::new()
            .file("c/values.yaml", b"\xEF\xBB\xBFreplicas: 1\n")
            .file("c/middle.txt", b"a\xEF\xBB\xBFb")
            .file("c/only-bom.txt", b"\xEF\xBB\xBF")
            .file("c/double.txt", b"\xEF\xBB\xBF\xEF\xBB\xBFx")
            .finish();
        let files = read(&bytes).unwrap();
        assert_eq!(files[0].data, b"replicas: 1\n");
        assert_eq!(files[1].data, b"a\xEF\xBB\xBFb");
        assert!(files[2].data.is_empty());
        assert_eq!(files[3].data, b"\xEF\xBB\xBFx");
    }

    #[test]
    fn later_duplicate_replaces_earlier_in_place() {
        let bytes = Tgz::new()
            .file("c/values.yaml", b"first")
            .file("c/Chart.yaml", b"name: c")
            .file("c/values.yaml", b"second")
            .raw(b"c/./values.yaml", EntryType::Regular, b"third")
            .finish();
        let files = read(&bytes).unwrap();
        assert_eq!(paths(&files), ["values.yaml", "Chart.yaml"]);
        assert_eq!(files[0].data, b"third");
    }

    #[test]
    fn refuses_a_path_that_is_both_file_and_directory() {
        let bytes = Tgz::new()
            .file("c/templates", b"x")
            .file("c/templates/a.yaml", b"a")
            .finish();
        let e = err(&bytes);
        assert!(
            matches!(&e, ArchiveError::PathConflict { entry, other } if entry == "c/templates/a.yaml" && other == "templates"),
            "{e:?}"
        );
        let bytes = Tgz::new()
            .file("c/templates/a.yaml", b"a")
            .file("c/templates", b"x")
            .finish();
        assert!(matches!(err(&bytes), ArchiveError::PathConflict { .. }));
        // Directory entries count as well.
        let bytes = Tgz::new().file("c/files", b"x").dir("c/files/").finish();
        assert!(
            matches!(err(&bytes), ArchiveError::PathConflict { other, .. } if other == "files")
        );
        let bytes = Tgz::new()
            .dir("c/files/sub/")
            .file("c/files", b"x")
            .finish();
        assert!(matches!(err(&bytes), ArchiveError::PathConflict { .. }));
        // A directory entry after its files is fine.
        let bytes = Tgz::new()
            .file("c/files/sub/a", b"a")
            .dir("c/files/sub/")
            .dir("c/files/")
            .file("c/files/b", b"b")
            .finish();
        assert_eq!(paths(&read(&bytes).unwrap()), ["files/sub/a", "files/b"]);
    }

    #[test]
    fn refuses_input_that_is_not_gzip() {
        for input in [
            &b""[..],
            b"\x1f",
            b"PK\x03\x04 a zip file",
            b"name: mychart\nversion: 1.0.0\n",
        ] {
            let e = read(input).unwrap_err();
            assert!(matches!(e, ArchiveError::NotGzip), "{e:?}");
            assert!(
                e.to_string()
                    .starts_with("not a gzip-compressed chart archive"),
                "{e}"
            );
            let e = read_chart_archive(input, &Limits::default()).unwrap_err();
            assert!(matches!(e, ArchiveError::NotGzip), "{e:?}");
        }
        // An uncompressed tar.
        let tar = Tgz::new().file("c/Chart.yaml", b"name: c").tar();
        assert!(matches!(read(&tar), Err(ArchiveError::NotGzip)));
    }

    #[test]
    fn refuses_gzip_that_is_not_tar() {
        let e = read(&gzip(b"just some text, not a tar archive")).unwrap_err();
        assert!(matches!(e, ArchiveError::Read { .. }), "{e:?}");
        assert!(e.to_string().contains("truncated or corrupt"), "{e}");
        // 512 bytes of garbage: a header with a bad checksum.
        let e = read(&gzip(&[b'g'; 512])).unwrap_err();
        assert!(matches!(e, ArchiveError::Read { .. }), "{e:?}");
    }

    #[test]
    fn truncated_archives_fail_cleanly() {
        let mut tgz = Tgz::new().file("c/Chart.yaml", b"name: c\n");
        for i in 0..20 {
            let text = format!("kind: ConfigMap\nmetadata:\n  name: cm-{i}\n").repeat(20);
            tgz = tgz.file(&format!("c/templates/cm-{i}.yaml"), text.as_bytes());
        }
        let full = tgz.finish();
        let complete = read(&full).unwrap();
        let e = read(&full[..full.len() / 2]).unwrap_err();
        assert!(
            matches!(
                e,
                ArchiveError::Read { .. } | ArchiveError::Truncated { .. }
            ),
            "{e:?}"
        );
        // Every prefix either fails or, when only the trailer is missing, reads it all.
        for cut in 0..full.len() {
            if let Ok(files) = read(&full[..cut]) {
                assert_eq!(files, complete, "cut at {cut}");
            }
        }
    }

    #[test]
    fn corrupt_archives_do_not_panic() {
        let full = Tgz::new()
            .file("c/Chart.yaml", b"name: c\n")
            .file("c/values.yaml", &b"key: value\n".repeat(50))
            .finish();
        for at in 10..full.len() {
            let mut bad = full.clone();
            bad[at] ^= 0x55;
            let _ = read(&bad);
        }
    }

    #[test]
    fn an_archive_without_files_is_refused() {
        let e = err(&Tgz::new().dir("c/").dir("c/templates/").finish());
        assert!(matches!(e, ArchiveError::Empty), "{e:?}");
        assert!(matches!(read(&gzip(&[0; 1024])), Err(ArchiveError::Empty)));
    }

    #[test]
    fn refuses_ambiguous_or_broken_metadata() {
        // A PAX size that disagrees with the header.
        let bytes = Tgz::new()
            .pax(&[("size", b"3")])
            .raw(b"c/a", EntryType::Regular, b"abcdef")
            .finish();
        let e = err(&bytes);
        assert!(
            matches!(&e, ArchiveError::BadHeader { entry, reason } if entry == "c/a" && reason.contains("PAX size")),
            "{e:?}"
        );
        // A matching one is fine.
        let bytes = Tgz::new()
            .pax(&[("size", b"6")])
            .raw(b"c/a", EntryType::Regular, b"abcdef")
            .finish();
        assert_eq!(read(&bytes).unwrap()[0].data, b"abcdef");
        // GNU long name and PAX path that disagree.
        let bytes = Tgz::new()
            .raw(b"././@LongLink", EntryType::GNULongName, b"c/one\0")
            .pax(&[("path", b"c/two")])
            .raw(b"c/x", EntryType::Regular, b"x")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::BadHeader { reason, .. } if reason.contains("disagree"))
        );
        // Metadata with nothing after it.
        let bytes = Tgz::new()
            .file("c/a", b"a")
            .raw(b"././@LongLink", EntryType::GNULongName, b"c/b\0")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::BadHeader { reason, .. } if reason.contains("ends before"))
        );
        // Two PAX headers for one entry.
        let bytes = Tgz::new()
            .pax(&[("path", b"c/a")])
            .pax(&[("path", b"c/b")])
            .raw(b"c/x", EntryType::Regular, b"x")
            .finish();
        assert!(matches!(err(&bytes), ArchiveError::BadHeader { .. }));
        // Malformed PAX records.
        for records in [
            &b"12 path=c/a"[..],
            b"x path=c/a\n",
            b"99 path=c/a\n",
            b"3 \n",
        ] {
            let bytes = Tgz::new()
                .raw(b"././@PaxHeader", EntryType::XHeader, records)
                .raw(b"c/x", EntryType::Regular, b"x")
                .finish();
            assert!(
                matches!(err(&bytes), ArchiveError::BadHeader { reason, .. } if reason.contains("malformed")),
                "{records:?}"
            );
        }
        // Names that are not UTF-8.
        let bytes = Tgz::new()
            .raw(b"c/bad-\xff-name", EntryType::Regular, b"x")
            .finish();
        assert!(
            matches!(err(&bytes), ArchiveError::NonUtf8Name { entry } if entry == "c/bad-\u{FFFD}-name")
        );
    }

    #[test]
    fn parses_pax_records() {
        let mut data = pax_record("path", b"c/with space=and equals");
        data.extend(pax_record("linkpath", b"t"));
        data.extend(pax_record("size", b"12"));
        data.extend(pax_record("SCHILY.xattr.user.x", b"\0\n\x01"));
        data.extend([0; 20]);
        let pax = parse_pax(&data).unwrap();
        assert_eq!(pax.path.as_deref(), Some(&b"c/with space=and equals"[..]));
        assert_eq!(pax.link_path.as_deref(), Some(&b"t"[..]));
        assert_eq!(pax.size, Some(12));
        assert!(!pax.sparse);
        assert!(parse_pax(&pax_record("size", b"twelve")).is_err());
        assert!(parse_pax(b"").unwrap().path.is_none());
    }

    #[test]
    fn reads_from_a_file_in_small_pieces() {
        /// Hands out one byte per read.
        struct Trickle<R>(R);
        impl<R: Read> Read for Trickle<R> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let end = buf.len().min(1);
                self.0.read(&mut buf[..end])
            }
        }
        let bytes = Tgz::new()
            .file("c/Chart.yaml", b"name: c\n")
            .file("c/templates/a.yaml", b"a: 1\n")
            .finish();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        io::Seek::rewind(&mut file).unwrap();
        let files = read_chart_archive(Trickle(file), &Limits::default()).unwrap();
        assert_eq!(paths(&files), ["Chart.yaml", "templates/a.yaml"]);
    }
}
