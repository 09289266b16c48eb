//! Rendered files into Kubernetes documents: split on `---`, parse, set hooks apart, sort
//! by Helm's install order, and print them as `helm template` does.

use crate::render::{RenderedFile, parse_document};
use crate::value::Value;

/// The kinds in the order Helm installs them; other kinds follow, alphabetically.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events Helm knows.
pub const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// A hook's annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// Its events (`pre-install`, `test`…).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or not a number).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    pub delete_policies: Vec<String>,
}

/// One Kubernetes document of the rendered output.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The template it came from (`chart/templates/x.yaml`).
    pub source: String,
    /// The document's text, trimmed.
    pub content: String,
    /// The parsed document (`Null` for a comment-only document).
    pub object: Value,
    /// `kind` (empty when absent).
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Set when the document is a hook.
    pub hook: Option<Hook>,
}

/// A rendered document that is not valid YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("YAML parse error on {file}: {message}{}", locate(.file, *.template_line, *.rendered_line, .rendered_text))]
pub struct ManifestError {
    /// The template file.
    pub file: String,
    /// The parser's message.
    pub message: String,
    /// 1-based line of the problem in the rendered file.
    pub rendered_line: usize,
    /// That rendered line.
    pub rendered_text: String,
    /// 1-based line of the template source that most likely produced it (0 if unknown).
    pub template_line: usize,
    /// The whole rendered file, for `--debug`.
    pub rendered: String,
}

fn locate(file: &str, template_line: usize, rendered_line: usize, text: &str) -> String {
    if template_line > 0 {
        format!(
            "\n  --> {file}:{template_line} (the template line that produced rendered line {rendered_line}: {text:?})"
        )
    } else {
        format!(
            "\n  rendered line {rendered_line}: {text:?} (run with --debug to see the rendered output)"
        )
    }
}

/// Splits rendered files into manifests and hooks (each in file order, then document
/// order), as Helm does: documents are separated by `---` at a line start; empty ones are
/// dropped; a hook with an unknown event is dropped whole.
pub fn split(files: &[RenderedFile]) -> Result<(Vec<Manifest>, Vec<Manifest>), ManifestError> {
    split_with(files, &mut ParsedDocuments::default())
}

/// Documents parsed while a render was still running (see [`ParsedDocuments::add_file`]),
/// by their text; [`split_with`] takes them instead of parsing again.
#[derive(Debug, Default)]
pub struct ParsedDocuments {
    /// Documents of Go-template charts (YAML 1.1), then of native charts (YAML 1.2).
    by_flavor: [foldhash::HashMap<String, Result<Value, crate::value::yaml::YamlError>>; 2],
}

impl ParsedDocuments {
    /// Parses every document of a rendered file's content (`native`: the chart's flavour).
    pub fn add_file(&mut self, content: &str, native: bool) {
        let parsed = &mut self.by_flavor[usize::from(native)];
        for (_, doc) in documents(content) {
            let doc = doc.trim();
            if !doc.is_empty() && !parsed.contains_key(doc) {
                parsed.insert(doc.to_owned(), parse_document(doc, native));
            }
        }
    }

    /// Adds the documents another thread parsed.
    pub fn extend(&mut self, other: ParsedDocuments) {
        for (mine, theirs) in self.by_flavor.iter_mut().zip(other.by_flavor) {
            if mine.is_empty() {
                *mine = theirs;
            } else {
                mine.extend(theirs);
            }
        }
    }

    /// The parse of `doc`, once (a document repeated in several files is parsed again).
    fn take(
        &mut self,
        doc: &str,
        native: bool,
    ) -> Option<Result<Value, crate::value::yaml::YamlError>> {
        self.by_flavor[usize::from(native)].remove(doc)
    }
}

/// [`split`], taking documents already parsed from `ready`.
pub fn split_with(
    files: &[RenderedFile],
    ready: &mut ParsedDocuments,
) -> Result<(Vec<Manifest>, Vec<Manifest>), ManifestError> {
    // Every document first, then parsed (on two cores when there is much to parse), then
    // sorted into manifests and hooks in document order.
    let mut docs: Vec<(&RenderedFile, usize, &str)> = Vec::new();
    for file in files {
        if file.content.trim().is_empty() {
            continue;
        }
        for (offset, doc) in documents(&file.content) {
            if !doc.trim().is_empty() {
                docs.push((file, offset, doc));
            }
        }
    }
    let parse = |&(file, offset, doc): &(&RenderedFile, usize, &str)| {
        parse_document(doc.trim(), file.native).map_err(|e| document_error(file, offset, doc, &e))
    };
    let mut parsed: Vec<Option<Result<Value, ManifestError>>> = docs
        .iter()
        .map(|&(file, offset, doc)| {
            ready
                .take(doc.trim(), file.native)
                .map(|r| r.map_err(|e| document_error(file, offset, doc, &e)))
        })
        .collect();
    let missing: Vec<usize> = (0..docs.len()).filter(|&i| parsed[i].is_none()).collect();
    let total: usize = missing.iter().map(|&i| docs[i].2.len()).sum();
    let fresh: Vec<Result<Value, ManifestError>> = if total >= PARALLEL_BYTES && missing.len() > 1 {
        parse_on_two_cores(&missing, &|&i: &usize| parse(&docs[i]))
    } else {
        missing.iter().map(|&i| parse(&docs[i])).collect()
    };
    for (i, r) in missing.into_iter().zip(fresh) {
        parsed[i] = Some(r);
    }
    let parsed = parsed.into_iter().flatten();
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for ((file, _, doc), object) in docs.iter().zip(parsed) {
        let m = manifest(&file.path, doc.trim(), object?);
        match &m.hook {
            Some(h) if h.events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) => {}
            Some(_) => hooks.push(m),
            None => manifests.push(m),
        }
    }
    Ok((manifests, hooks))
}

/// Rendered output above which documents are parsed on two threads.
const PARALLEL_BYTES: usize = 128 * 1024;

/// Parses documents on this thread and one more, each taking the next unparsed document.
fn parse_on_two_cores<T, F>(docs: &[T], parse: &F) -> Vec<Result<Value, ManifestError>>
where
    T: Sync,
    F: Fn(&T) -> Result<Value, ManifestError> + Sync,
{
    map_on_two_cores(docs, parse)
}

/// `items.iter().map(f)` computed on this thread and one more, each taking the next item;
/// the results in the items' order.
pub fn map_on_two_cores<T, R, F>(items: &[T], f: &F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let (mine, theirs) = std::thread::scope(|s| {
        let other = s.spawn(work);
        let mine = work();
        match other.join() {
            Ok(theirs) => (mine, theirs),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (i, r) in mine.into_iter().chain(theirs) {
        slots[i] = Some(r);
    }
    // Every index was taken by exactly one thread.
    slots.into_iter().flatten().collect()
}

fn document_error(
    file: &RenderedFile,
    offset: usize,
    doc: &str,
    e: &crate::value::yaml::YamlError,
) -> ManifestError {
    let doc_start_line = file.content[..offset].matches('\n').count();
    let lead = doc.len() - doc.trim_start().len();
    let lead_lines = doc[..lead].matches('\n').count();
    let rendered_line = doc_start_line + lead_lines + e.line.unwrap_or(1) as usize;
    let rendered_text = file
        .content
        .lines()
        .nth(rendered_line.saturating_sub(1))
        .unwrap_or("")
        .to_owned();
    ManifestError {
        file: file.path.clone(),
        message: e.to_string(),
        template_line: template_line_for(&file.template_source, &rendered_text),
        rendered_line,
        rendered_text,
        rendered: file.content.clone(),
    }
}

/// Documents of a rendered file with their byte offsets, split exactly as Helm's
/// `(?:^|\s*\n)---\s*` does: a `---` counts only after a line break that an earlier
/// separator has not already swallowed, so `---\n\n---` leaves the second `---` inside
/// the next document, as in Helm.
pub fn documents(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut doc_start = 0;
    let mut consumed = 0;
    let mut search = 0;
    while let Some(found) = crate::bytes::find_str(b"---", &bytes[search..]) {
        let i = search + found;
        let at_start = i == 0 && consumed == 0;
        let after_break = i > consumed && bytes[i - 1] == b'\n';
        if !(at_start || after_break) {
            search = i + 3;
            continue;
        }
        out.push((doc_start, &text[doc_start..i]));
        let mut end = i + 3;
        while end < bytes.len() && bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        consumed = end;
        doc_start = end;
        search = end;
    }
    out.push((doc_start, &text[doc_start..]));
    out
}

fn manifest(source: &str, content: &str, object: Value) -> Manifest {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let annotations = object.get_path(["metadata", "annotations"]);
    let annotation = |k: &str| annotations.and_then(|a| a.get(k)).map(|v| v.to_string());
    let hook = annotation("helm.sh/hook").map(|events| Hook {
        events: list(&events),
        weight: annotation("helm.sh/hook-weight")
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(0),
        delete_policies: annotation("helm.sh/hook-delete-policy")
            .map(|p| list(&p))
            .unwrap_or_default(),
    });
    Manifest {
        source: source.to_owned(),
        content: content.to_owned(),
        kind: text(object.get("kind")),
        name: text(object.get_path(["metadata", "name"])),
        object,
        hook,
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The template line that most likely produced a rendered line: the first source line
/// whose literal text (around template tags) matches it, preferring exact matches.
pub fn template_line_for(source: &str, rendered: &str) -> usize {
    let wanted = rendered.trim();
    if wanted.is_empty() {
        return 0;
    }
    let lines: Vec<&str> = source.lines().collect();
    if let Some(i) = lines.iter().position(|l| l.trim() == wanted) {
        return i + 1;
    }
    // The literal text before the first tag, e.g. `name: ` of `name: {{ x }}`.
    let key = wanted.split(':').next().unwrap_or(wanted).trim();
    lines
        .iter()
        .position(|l| {
            let literal = l.split("{{").next().unwrap_or(l).trim();
            !literal.is_empty()
                && (wanted.starts_with(literal)
                    || literal.split(':').next().map(str::trim) == Some(key))
        })
        .map_or(0, |i| i + 1)
}

/// Sorts by Helm's install order of kinds (stable: ties keep their order).
pub fn sort_install_order(items: &mut [Manifest]) {
    items.sort_by(|a, b| {
        let rank = |m: &Manifest| {
            INSTALL_ORDER
                .iter()
                .position(|k| *k == m.kind)
                .unwrap_or(INSTALL_ORDER.len())
        };
        rank(a).cmp(&rank(b)).then_with(|| {
            if rank(a) == INSTALL_ORDER.len() {
                a.kind.cmp(&b.kind)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
}

/// `---\n# Source: <path>\n<document>\n` for each, as `helm template` prints.
pub fn write_documents(items: &[Manifest], out: &mut String) {
    out.reserve(
        items
            .iter()
            .map(|m| m.source.len() + m.content.len() + 16)
            .sum(),
    );
    for piece in items.iter().flat_map(pieces) {
        out.push_str(piece);
    }
}

/// [`write_documents`] to a writer.
pub fn write_documents_to(
    items: &[Manifest],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for piece in items.iter().flat_map(pieces) {
        out.write_all(piece.as_bytes())?;
    }
    Ok(())
}

/// What one document prints as, in order.
fn pieces(m: &Manifest) -> [&str; 5] {
    ["---\n# Source: ", &m.source, "\n", &m.content, "\n"]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            content: content.into(),
            native: true,
            template_source: "".into(),
        }
    }

    #[test]
    fn documents_write_the_same_to_a_string_and_a_writer() {
        let (m, h) = split(&[file(
            "c/templates/x.yaml",
            "kind: Pod\nmetadata:\n  name: a\n---\nkind: Service\nmetadata:\n  name: s\n",
        )])
        .unwrap();
        let all: Vec<Manifest> = m.into_iter().chain(h).collect();
        let mut text = String::new();
        write_documents(&all, &mut text);
        let mut bytes = Vec::new();
        write_documents_to(&all, &mut bytes).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), text);
        assert!(
            text.starts_with("---\n# Source: c/templates/x.yaml\nkind: Pod\n"),
            "{text}"
        );
    }

    #[test]
    fn splits_like_helm() {
        let docs: Vec<&str> = documents("a: 1\n---\nb: 2\n--- \nc: 3\nd: ---x\n---e: 4")
            .into_iter()
            .map(|(_, d)| d.trim())
            .collect();
        assert_eq!(docs, ["a: 1", "b: 2", "c: 3\nd: ---x", "e: 4"]);
        // The separator swallows the blank line, so the next `---` stays in the document.
        let docs: Vec<&str> = documents("a: 1\n---\n\n---\nb: 2")
            .into_iter()
            .map(|(_, d)| d.trim())
            .collect();
        assert_eq!(docs, ["a: 1", "---\nb: 2"]);
    }

    #[test]
    fn documents_parsed_ahead_are_used_and_errors_keep_their_file() {
        let content = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let files = [file("c/templates/a.yaml", content)];
        let mut ready = ParsedDocuments::default();
        ready.add_file(content, true);
        // The same text twice: one parse is handed out, the repeat is parsed again.
        assert_eq!(ready.by_flavor[1].len(), 1);
        let ahead = split_with(&files, &mut ready).map(|(m, _)| m.len());
        assert_eq!(ahead.ok(), Some(2));
        assert!(ready.by_flavor[1].is_empty());
        // A parse that failed ahead fails the split with the file's name and lines.
        let broken = "a: [1\n";
        let files = [file("c/templates/b.yaml", broken)];
        let mut ready = ParsedDocuments::default();
        ready.add_file(broken, true);
        let ahead = split_with(&files, &mut ready)
            .err()
            .map(|e| (e.file, e.rendered_line));
        let fresh = split(&files).err().map(|e| (e.file, e.rendered_line));
        assert_eq!(ahead, fresh);
        assert_eq!(ahead.map(|(f, _)| f), Some("c/templates/b.yaml".to_owned()));
    }

    #[test]
    fn documents_parsed_on_two_threads_are_merged() {
        let (a, b) = ("kind: A\n", "kind: B\n");
        let files = [file("c/templates/a.yaml", a), file("c/templates/b.yaml", b)];
        let (mut mine, mut theirs) = (ParsedDocuments::default(), ParsedDocuments::default());
        mine.add_file(a, true);
        theirs.add_file(b, true);
        mine.extend(theirs);
        assert_eq!(mine.by_flavor[1].len(), 2);
        let kinds: Vec<String> = split_with(&files, &mut mine)
            .unwrap()
            .0
            .into_iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(kinds, ["A", "B"]);
        assert!(mine.by_flavor[1].is_empty(), "both parses were taken");
    }

    #[test]
    fn hooks_are_set_apart_and_unknown_events_dropped() {
        let (m, h) = split(&[file(
            "c/templates/x.yaml",
            "kind: Pod\nmetadata:\n  name: a\n  annotations:\n    helm.sh/hook: test\n    helm.sh/hook-weight: \"-5\"\n---\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install,bogus\n---\nkind: Service\nmetadata:\n  name: s\n---\n# only a comment\n",
        )])
        .unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].hook.as_ref().unwrap().weight, -5);
        let kinds: Vec<&str> = m.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["Service", ""]);
    }

    #[test]
    fn install_order() {
        let mk = |kind: &str| {
            manifest("x", "", {
                let mut m = crate::value::Map::default();
                m.insert("kind".into(), Value::from(kind));
                Value::Map(m)
            })
        };
        let mut items: Vec<Manifest> = [
            "Zebra",
            "Deployment",
            "Alpha",
            "Service",
            "Namespace",
            "Deployment",
        ]
        .iter()
        .map(|k| mk(k))
        .collect();
        sort_install_order(&mut items);
        let kinds: Vec<&str> = items.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "Service",
                "Deployment",
                "Deployment",
                "Alpha",
                "Zebra"
            ]
        );
    }

    #[test]
    fn yaml_errors_point_at_the_template_line() {
        let mut f = file(
            "c/templates/cm.yaml",
            "kind: ConfigMap\ndata:\n  key: a: b\n",
        );
        f.template_source = "kind: ConfigMap\ndata:\n  key: {{ Values.v }}\n".into();
        let err = split(&[f]).unwrap_err();
        assert_eq!(err.rendered_line, 3);
        assert_eq!(err.template_line, 3);
        assert!(err.to_string().contains("c/templates/cm.yaml:3"), "{err}");
    }
}
