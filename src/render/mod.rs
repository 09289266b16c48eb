//! Rendering a chart tree to files: each chart by its own engine (native minijinja, or Go
//! templates for Helm charts), with Helm's objects, over values already computed.

pub mod context;
pub mod files;
pub mod gotmpl;
pub mod native;
pub mod worker;

pub use context::ReleaseInfo;

use crate::chart::{Chart, Engine};
use crate::k8s::Capabilities;
use crate::value::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Options of a render.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Undefined values are errors (`lint --strict`).
    pub strict: bool,
    /// Go templates already parsed (see [`gotmpl::ParseQueue`]), taken as they are used.
    pub preparsed: Option<std::sync::Arc<std::sync::Mutex<gotmpl::Preparsed>>>,
    /// In a tree mixing native and Helm charts, the names the other kind of chart defines
    /// (an `include` of one of them fails with an explanation).
    pub foreign_defines: std::sync::Arc<std::collections::HashSet<String>>,
    /// What `lookup` answers from a live cluster; `None` offline (every lookup is empty).
    pub lookup: Option<std::sync::Arc<LookupTable>>,
    /// Where each Go-template file's output (not NOTES.txt) goes as soon as it is executed,
    /// so that another thread parses its documents while the rest renders.
    pub stream: Option<std::sync::mpsc::Sender<String>>,
}

/// What a `lookup` asks for: `lookup apiVersion kind namespace name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupKey {
    /// `v1`, `apps/v1`.
    pub api_version: String,
    /// `Secret`.
    pub kind: String,
    /// Empty for every namespace (or a cluster-scoped kind).
    pub namespace: String,
    /// Empty for a list of all.
    pub name: String,
}

/// Answers for `lookup` during a render against a cluster. Templates run synchronously, so
/// a render asks the table: known objects are answered; unknown ones are answered empty and
/// remembered, the caller fetches them and renders again (until nothing new is asked).
#[derive(Default)]
pub struct LookupTable {
    answers: std::sync::Mutex<HashMap<LookupKey, Value>>,
    missing: std::sync::Mutex<Vec<LookupKey>>,
}

impl fmt::Debug for LookupTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LookupTable")
    }
}

impl LookupTable {
    /// The answer for a lookup: the object (or list) fetched, else an empty map for now.
    pub fn answer(&self, key: LookupKey) -> Value {
        if let Ok(a) = self.answers.lock()
            && let Some(v) = a.get(&key)
        {
            return v.clone();
        }
        if let Ok(mut m) = self.missing.lock()
            && !m.contains(&key)
        {
            m.push(key);
        }
        Value::map()
    }

    /// The lookups asked for that have no answer yet (and forgets them).
    pub fn take_missing(&self) -> Vec<LookupKey> {
        self.missing
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }

    /// Records the answer for a lookup (an empty map for an object that does not exist).
    pub fn insert(&self, key: LookupKey, value: Value) {
        if let Ok(mut a) = self.answers.lock() {
            a.insert(key, value);
        }
    }
}

/// Names a template file defines: `{{ define "x" }}` (Helm) or `{% define "x" %}` (native).
fn define_names(text: &str, native: bool, out: &mut std::collections::HashSet<String>) {
    let (open, close) = if native { ("{%", "%}") } else { ("{{", "}}") };
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        rest = &rest[i + open.len()..];
        let end = rest.find(close).unwrap_or(rest.len());
        let inner = rest[..end].trim_start_matches('-').trim();
        if let Some(name) = inner
            .strip_prefix("define")
            .map(str::trim_start)
            .and_then(|n| n.strip_prefix('"'))
            .and_then(|n| n.split('"').next())
        {
            out.insert(name.to_owned());
        }
        rest = &rest[end..];
    }
}

fn defines_of(charts: &[ChartRender<'_>], native: bool) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for c in charts {
        for f in &c.chart.templates {
            define_names(&f.text(), native, &mut out);
        }
    }
    out
}

/// One rendered template file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Its path in Helm's form: `<chart>/templates/x.yaml`, or
    /// `<chart>/charts/<sub>/templates/x.yaml` for a subchart's.
    pub path: String,
    /// What the template produced.
    pub content: String,
    /// Produced by a native chart (YAML 1.2 semantics).
    pub native: bool,
    /// The template's source, to point YAML errors in the output back at it (shared with
    /// the parsed template: cert-manager's CRD templates are 1.2 MB).
    pub template_source: std::sync::Arc<str>,
}

/// The result of rendering a chart tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Every rendered template except partials and NOTES.txt, in path order.
    pub files: Vec<RenderedFile>,
    /// The root chart's rendered NOTES.txt, when it has one.
    pub notes: Option<String>,
}

/// A chart of the tree with what rendering it needs.
#[derive(Clone, Debug)]
pub struct ChartRender<'a> {
    /// The chart.
    pub chart: &'a Chart,
    /// Its path prefix: `root`, `root/charts/sub`.
    pub prefix: String,
    /// 0 for the root.
    pub depth: usize,
    /// Its `.Values`.
    pub values: Cow<'a, Map>,
}

/// A template that failed to render, pointing at the template source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError {
    /// The template file (`chart/templates/x.yaml`).
    pub template: String,
    /// 1-based line in that file.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What went wrong.
    pub message: String,
    /// The source line, with a marker under the failing part.
    pub snippet: Option<String>,
    /// Where the failing template was included from (outermost last).
    pub included_from: Vec<String>,
}

impl std::error::Error for RenderError {}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        write!(f, "\n  --> {}", self.template)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n{s}")?;
        }
        for inc in &self.included_from {
            write!(f, "\n  included from {inc}")?;
        }
        Ok(())
    }
}

impl RenderError {
    pub(crate) fn engine(message: String) -> Self {
        RenderError {
            template: "(engine)".into(),
            line: None,
            column: None,
            message,
            snippet: None,
            included_from: Vec::new(),
        }
    }

    /// From one minijinja error of the template `path`.
    fn from_mj(e: &minijinja::Error, path: &str, sources: &Sources) -> Self {
        Self::from_mj_chain(e, path, &HashMap::new(), sources)
    }

    /// From a minijinja error and its chain of causes (nested `include`/`tpl` renders):
    /// the innermost located error is the one reported, the outer ones say where it was
    /// included from. `defines` maps define names to the files that hold them.
    fn from_mj_chain(
        e: &minijinja::Error,
        path: &str,
        defines: &HashMap<String, String>,
        sources: &Sources,
    ) -> Self {
        let mut chain: Vec<&minijinja::Error> = vec![e];
        let mut cur: &dyn std::error::Error = e;
        while let Some(src) = cur.source() {
            if let Some(mj) = src.downcast_ref::<minijinja::Error>() {
                chain.push(mj);
            }
            cur = src;
        }
        let file_of = |err: &minijinja::Error| -> String {
            match err.name() {
                Some(n) => match n.strip_prefix("define::") {
                    Some(d) => defines.get(d).map_or_else(
                        || format!("define {d:?}"),
                        |f| format!("{f} (define {d:?})"),
                    ),
                    None => n.to_owned(),
                },
                None => path.to_owned(),
            }
        };
        let located: Vec<&minijinja::Error> = chain
            .iter()
            .copied()
            .filter(|c| c.line().is_some())
            .collect();
        let inner = located.last().copied().unwrap_or(e);
        let source = inner
            .name()
            .and_then(|n| sources.get(n))
            .map(String::as_str);
        let expression = source.and_then(|src| inner.range().and_then(|r| src.get(r)));
        let innermost_msg = chain
            .iter()
            .rev()
            .find_map(|c| c.detail().map(str::to_owned))
            .or_else(|| expression.map(|x| format!("`{x}`")))
            .unwrap_or_else(|| inner.kind().to_string());
        let (column, snippet) = source.map_or((None, None), |src| snippet_of(inner, src));
        // Repeated frames (a template including itself) are shown once with a count.
        let mut included_from: Vec<String> = Vec::new();
        let mut last: Option<(String, usize)> = None;
        for frame in located
            .iter()
            .rev()
            .skip(1)
            .map(|c| format!("{}:{}", file_of(c), c.line().unwrap_or(0)))
        {
            match &mut last {
                Some((f, n)) if *f == frame => *n += 1,
                _ => {
                    if let Some((f, n)) = last.take() {
                        included_from.push(if n > 1 { format!("{f} ({n} times)") } else { f });
                    }
                    last = Some((frame, 1));
                }
            }
        }
        if let Some((f, n)) = last {
            included_from.push(if n > 1 { format!("{f} ({n} times)") } else { f });
        }
        RenderError {
            template: file_of(inner),
            line: inner.line(),
            column,
            message: format!("{}: {innermost_msg}", kind_words(inner.kind())),
            snippet,
            included_from,
        }
    }
}

fn kind_words(kind: minijinja::ErrorKind) -> &'static str {
    use minijinja::ErrorKind as K;
    match kind {
        K::SyntaxError => "template syntax error",
        K::UndefinedError => "undefined value",
        K::UnknownFunction => "unknown function",
        K::UnknownFilter => "unknown filter",
        K::UnknownMethod => "unknown method",
        K::OutOfFuel => "template ran too long (out of fuel)",
        K::TemplateNotFound => "template not found",
        _ => "render error",
    }
}

/// Template sources by template name, for error snippets.
pub type Sources = HashMap<String, String>;

/// The failing source line with a caret marker, and the 1-based column.
fn snippet_of(e: &minijinja::Error, src: &str) -> (Option<usize>, Option<String>) {
    let Some(line) = e.line() else {
        return (None, None);
    };
    let text = src.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let line_start: usize = src
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let (col, width) = match e.range() {
        Some(r) if r.start >= line_start => {
            let col = src[line_start..r.start].chars().count();
            let width = src[r.start..r.end.min(line_start + text.len()).max(r.start)]
                .chars()
                .count()
                .max(1);
            (col, width)
        }
        _ => (0, 0),
    };
    let pad = " ".repeat(line.to_string().len() + 2);
    let mut s = format!("{pad}|\n {line} | {text}");
    if width > 0 {
        s.push_str(&format!(
            "\n{pad}| {}{}",
            " ".repeat(col),
            "^".repeat(width)
        ));
    }
    (width.gt(&0).then_some(col + 1), Some(s))
}

/// Why a chart tree could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderFailure {
    /// A template failed.
    #[error(transparent)]
    Template(#[from] Box<RenderError>),
}

/// Lists the charts of a processed tree with their values and paths, root first. Each
/// chart's values are borrowed from the tree's (a subchart's are its parent's entry under
/// its name), never copied.
pub fn charts<'a>(root: &'a Chart, values: &'a Map) -> Vec<ChartRender<'a>> {
    fn walk<'a>(
        c: &'a Chart,
        values: Cow<'a, Map>,
        prefix: String,
        depth: usize,
        out: &mut Vec<ChartRender<'a>>,
    ) {
        let subs: Vec<(&'a Chart, Cow<'a, Map>)> = c
            .dependencies
            .iter()
            .map(|sub| {
                let v = match &values {
                    Cow::Borrowed(m) => context::sub_values(m, sub),
                    // A subchart of a chart with no values of its own has none either.
                    Cow::Owned(_) => Cow::Owned(Map::default()),
                };
                (sub, v)
            })
            .collect();
        out.push(ChartRender {
            chart: c,
            prefix: prefix.clone(),
            depth,
            values,
        });
        for (sub, v) in subs {
            walk(
                sub,
                v,
                format!("{prefix}/charts/{}", sub.name()),
                depth + 1,
                out,
            );
        }
    }
    let mut out = Vec::new();
    walk(
        root,
        Cow::Borrowed(values),
        root.name().to_owned(),
        0,
        &mut out,
    );
    out
}

/// Renders a processed chart tree (see [`crate::values::compute`]) with its values.
pub fn render(
    root: &Chart,
    values: &Map,
    release: &ReleaseInfo,
    caps: &Capabilities,
    opts: &RenderOptions,
) -> Result<Rendered, RenderFailure> {
    let all = charts(root, values);
    let (native_charts, helm_charts): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|c| c.chart.engine() != Engine::Helm);
    let mixed = !native_charts.is_empty() && !helm_charts.is_empty();
    let mut files = if native_charts.is_empty() {
        Vec::new()
    } else {
        let mut o = opts.clone();
        if mixed {
            o.foreign_defines = std::sync::Arc::new(defines_of(&helm_charts, false));
        }
        native::render(&native_charts, release, caps, &o)?
    };
    if !helm_charts.is_empty() {
        let mut o = opts.clone();
        if mixed {
            o.foreign_defines = std::sync::Arc::new(defines_of(&native_charts, true));
        }
        files.extend(gotmpl::render(&helm_charts, release, caps, &o)?);
    }
    let notes_path = format!("{}/templates/NOTES.txt", root.name());
    let mut rendered = Rendered::default();
    for f in files {
        if f.path.ends_with("/templates/NOTES.txt") {
            if f.path == notes_path {
                rendered.notes = Some(f.content);
            }
            continue;
        }
        rendered.files.push(f);
    }
    rendered.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(rendered)
}

/// Parses a rendered document with the YAML flavour of the chart that produced it.
pub fn parse_document(text: &str, native: bool) -> Result<Value, crate::value::yaml::YamlError> {
    let flavor = if native {
        crate::value::yaml::Flavor::Core12
    } else {
        crate::value::yaml::Flavor::Yaml11
    };
    crate::value::yaml::from_str(text, flavor)
}
