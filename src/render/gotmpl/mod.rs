//! Helm charts' template engine: Go's `text/template` (lexer, parser, evaluator) with
//! Helm's objects, options and error messages, over the shared function library.

pub mod exec;
pub mod lex;
pub mod parse;
#[cfg(test)]
mod tests;
pub mod value;

use super::context::{self, ReleaseInfo};
use super::{ChartRender, RenderError, RenderOptions, RenderedFile};
use crate::k8s::Capabilities;
use crate::render::files::Files;
use crate::value::Value;
use exec::{Engine, ExecError, Set, WARN_END, WARN_START};
use parse::Tree;
/// Maps keyed by template and function names, looked up on every call: foldhash, not SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::rc::Rc;
use value::{Fields, Obj, V};

/// Stack for the render thread: deep `include` recursion (Helm allows 1,000 levels of one
/// name) needs more than a default thread has.
pub const STACK_BYTES: usize = 512 * 1024 * 1024;

/// Helm's parse order: deeper paths first, then reverse alphabetical (so that, of two
/// defines with one name, the one in the alphabetically first file, or the parent chart's,
/// is parsed last and wins).
fn helm_order(paths: &mut [String]) {
    paths.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Renders every Go-template chart of the tree (`charts` lists each chart with its values).
pub fn render(
    charts: &[ChartRender<'_>],
    release: &ReleaseInfo,
    caps: &Capabilities,
    opts: &RenderOptions,
) -> Result<Vec<RenderedFile>, Box<RenderError>> {
    if super::worker::on_worker() {
        return render_here(charts, release, caps, opts);
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("pack-gotmpl".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || render_here(charts, release, caps, opts))
            .map_err(|e| Box::new(RenderError::engine(format!("cannot start the render: {e}"))))?
            .join()
            .unwrap_or_else(|_| {
                Err(Box::new(RenderError::engine(
                    "the template engine crashed".into(),
                )))
            })
    })
}

struct FileJob<'a> {
    key: FileKey,
    source: std::borrow::Cow<'a, str>,
    chart: &'a ChartRender<'a>,
    base_path: String,
}

fn render_here(
    charts: &[ChartRender<'_>],
    release: &ReleaseInfo,
    caps: &Capabilities,
    opts: &RenderOptions,
) -> Result<Vec<RenderedFile>, Box<RenderError>> {
    // Every template of every chart, parsed in Helm's order into one set.
    let mut jobs: HashMap<String, FileJob<'_>> = HashMap::default();
    for cr in charts {
        for file in &cr.chart.templates {
            let path = format!("{}/{}", cr.prefix, file.name);
            jobs.insert(
                path,
                FileJob {
                    key: file_key(file),
                    source: file.text(),
                    chart: cr,
                    base_path: format!("{}/templates", cr.prefix),
                },
            );
        }
    }
    let mut order: Vec<String> = jobs.keys().cloned().collect();
    helm_order(&mut order);
    let mut set = Set::default();
    // Each file's text as its tree holds it, shared with the rendered file.
    let mut texts: HashMap<&str, std::sync::Arc<str>> = HashMap::default();
    for path in &order {
        let job = &jobs[path];
        let ahead = opts.preparsed.as_ref().and_then(|p| {
            p.lock()
                .ok()
                .and_then(|mut p| p.trees.remove(&job.key))
                // The key names a file only while its chart lives: check the text too.
                .filter(|(tree, _)| *tree.text == *job.source)
        });
        let (tree, defines) = match ahead {
            Some((tree, defines)) => {
                let file: std::sync::Arc<str> = std::sync::Arc::from(path.as_str());
                let defines = defines
                    .into_iter()
                    .map(|d| {
                        let name = d.name.clone();
                        d.renamed(&name, &file)
                    })
                    .collect();
                (tree.renamed(path, &file), defines)
            }
            None => parse::parse(path, &job.source, &exec::has_function)
                .map_err(|e| Box::new(parse_error(&e, &job.source)))?,
        };
        texts.insert(path, tree.text.clone());
        set.add(tree);
        for d in defines {
            set.add(d);
        }
    }
    let engine = Engine::new(set, opts.strict)
        .with_foreign_defines(opts.foreign_defines.clone())
        .with_lookup(opts.lookup.clone());

    // Each chart's objects, built from the deepest up so `Subcharts` can hold them; a
    // subchart's Values is the very map inside its parent's.
    let release_v = V::from_owned(context::release(release));
    // Helm's Revision is a Go int.
    if let V::Map(m) = &release_v {
        m.borrow_mut()
            .insert("Revision".to_owned(), V::Int(release.revision));
    }
    let caps_v = capabilities(caps);
    let mut values_of: HashMap<String, V> = HashMap::default();
    for cr in charts {
        let v = match cr.prefix.rsplit_once("/charts/") {
            Some((parent, name)) => values_of
                .get(parent)
                .and_then(|pv| match pv {
                    V::Map(m) => m.borrow().get(name).cloned(),
                    _ => None,
                })
                .filter(|v| matches!(v, V::Map(_)))
                .unwrap_or_else(|| V::from_map(&cr.values)),
            None => V::from_map(&cr.values),
        };
        values_of.insert(cr.prefix.clone(), v);
    }
    let mut tops: HashMap<String, V> = HashMap::default();
    let mut by_depth: Vec<&ChartRender<'_>> = charts.iter().collect();
    by_depth.sort_by_key(|c| std::cmp::Reverse(c.depth));
    for cr in by_depth {
        let mut top = Fields::default();
        top.insert("Values".to_owned(), values_of[&cr.prefix].clone());
        top.insert("Release".to_owned(), release_v.clone());
        top.insert(
            "Chart".to_owned(),
            V::from_owned(context::chart(&cr.chart.metadata, cr.depth == 0)),
        );
        top.insert("Capabilities".to_owned(), caps_v.clone());
        top.insert(
            "Files".to_owned(),
            V::Obj(Rc::new(Obj::Files(Files::new(&cr.chart.files)))),
        );
        let mut subs = Fields::default();
        for sub in &cr.chart.dependencies {
            let p = format!("{}/charts/{}", cr.prefix, sub.name());
            if let Some(t) = tops.get(&p) {
                subs.insert(sub.name().to_owned(), t.clone());
            }
        }
        top.insert("Subcharts".to_owned(), V::map(subs));
        tops.insert(cr.prefix.clone(), V::map(top));
    }

    let mut out = Vec::new();
    for path in &order {
        let job = &jobs[path];
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || job.chart.chart.metadata.is_library() {
            continue;
        }
        let top = &tops[&job.chart.prefix];
        if let V::Map(m) = top {
            let mut t = Fields::default();
            t.insert("Name".to_owned(), V::str(path));
            t.insert("BasePath".to_owned(), V::str(&job.base_path));
            m.borrow_mut().insert("Template".to_owned(), V::map(t));
        }
        let mut content = engine
            .execute(path, top)
            .map_err(|e| Box::new(exec_error(&e, path, &jobs)))?;
        if content.contains("<no value>") {
            content = content.replace("<no value>", "");
        }
        if let Some(stream) = &opts.stream
            && !path.ends_with("/templates/NOTES.txt")
        {
            // The reader may be gone (it stopped at an error); the render goes on alone.
            let _ = stream.send(content.clone());
        }
        out.push(RenderedFile {
            path: path.clone(),
            content,
            native: false,
            template_source: texts
                .get(path.as_str())
                .cloned()
                .unwrap_or_else(|| job.source.as_ref().into()),
        });
    }
    crate::timing::mark("templates executed");
    // Freed after the result is handed back when on a render worker.
    super::worker::discard((engine, tops, values_of, release_v, caps_v));
    Ok(out)
}

fn capabilities(caps: &Capabilities) -> V {
    let data = context::capabilities(caps);
    let mut m = Fields::default();
    if let Value::Map(map) = data {
        for (k, v) in map {
            let val = match k.as_str() {
                "APIVersions" => V::Obj(Rc::new(Obj::ApiVersions(caps.api_versions.clone()))),
                "KubeVersion" => {
                    let fields: Fields = v
                        .as_map()
                        .map(|f| {
                            f.iter()
                                .map(|(k, v)| (k.clone(), V::from_value(v)))
                                .collect()
                        })
                        .unwrap_or_default();
                    let text = fields
                        .get("Version")
                        .map(|v| {
                            let mut s = String::new();
                            v.print(&mut s);
                            s
                        })
                        .unwrap_or_default();
                    V::Obj(Rc::new(Obj::KubeVersion(fields, text)))
                }
                "HelmVersion" => {
                    let fields = v
                        .as_map()
                        .map(|f| {
                            f.iter()
                                .map(|(k, v)| (k.clone(), V::from_value(v)))
                                .collect()
                        })
                        .unwrap_or_default();
                    V::Obj(Rc::new(Obj::Struct("common.HelmVersion", fields)))
                }
                _ => V::from_owned(v),
            };
            m.insert(k, val);
        }
    }
    V::Obj(Rc::new(Obj::Struct("*common.Capabilities", m)))
}

/// Helm's `parse error at (file:line): message`, keeping only the last `: `-separated part
/// of Go's message as Helm does.
fn parse_error(e: &parse::ParseError, source: &str) -> RenderError {
    let go = e.to_string();
    let last = go.rsplit(": ").next().unwrap_or(&go);
    RenderError {
        template: e.parse_name.clone(),
        line: Some(e.line),
        column: None,
        message: format!("parse error at ({}:{}): {last}", e.parse_name, e.line),
        snippet: snippet(source, e.line, None),
        included_from: Vec::new(),
    }
}

/// One frame of Helm's error trace: `location`, `executing "name" at <node>:`, message.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    location: String,
    executing: String,
    message: String,
}

/// Reads one Go template error text as a frame; `None` when it is not one.
fn frame(text: &str) -> Option<Frame> {
    let rest = text.strip_prefix("template: ")?;
    if rest.starts_with("no template ") {
        return Some(Frame {
            location: String::new(),
            executing: String::new(),
            message: text.to_owned(),
        });
    }
    let (location, after) = rest.split_once(": ")?;
    if !location.contains(':') {
        return None;
    }
    if let Some(x) = after.strip_prefix("executing ")
        && let Some(at) = x.find(" at <")
        && let Some(end) = x[at..].find(">: ")
    {
        let split = at + end + 1;
        return Some(Frame {
            location: location.to_owned(),
            executing: format!("executing {}:", &x[..split]),
            message: x[split + 2..].to_owned(),
        });
    }
    Some(Frame {
        location: location.to_owned(),
        executing: String::new(),
        message: after.to_owned(),
    })
}

/// Helm's rewording of an execution error: `required`/`fail` become `execution error at
/// (location): message`; a chain of template errors becomes a trace, one frame per nested
/// template, each frame's message without the nested error's text; anything else keeps
/// Go's text.
pub fn helm_exec_message(e: &ExecError, path: &str) -> String {
    let parts: Vec<&str> = e.text.splitn(3, ": ").collect();
    if parts.len() != 3 {
        return format!("execution error in ({path}): {}", e.text);
    }
    if let (Some(a), Some(b)) = (parts[2].find(WARN_START), parts[2].find(WARN_END))
        && b >= a + WARN_START.len()
    {
        return format!(
            "execution error at ({}): {}",
            parts[1],
            &parts[2][a + WARN_START.len()..b]
        );
    }
    let chain = e.chain();
    let mut frames: Vec<Frame> = Vec::new();
    for text in &chain {
        match frame(text) {
            Some(f) => frames.push(f),
            None => return e.text.clone(),
        }
    }
    for i in 0..frames.len().saturating_sub(1) {
        if let Some(stripped) = frames[i].message.strip_suffix(chain[i + 1]) {
            frames[i].message = stripped.trim_end().to_owned();
        }
    }
    let mut out = String::new();
    for f in &frames {
        if !f.location.is_empty() {
            out.push_str(&f.location);
            out.push_str("\n  ");
        }
        if !f.executing.is_empty() {
            out.push_str(&f.executing);
            out.push_str("\n    ");
        }
        if !f.message.is_empty() {
            out.push_str(&f.message);
            out.push('\n');
        }
    }
    out.trim().to_owned()
}

fn exec_error(e: &ExecError, path: &str, jobs: &HashMap<String, FileJob<'_>>) -> RenderError {
    let message = helm_exec_message(e, path);
    let (file, line, col) = match &e.origin {
        Some((f, l, c)) => (f.clone(), Some(*l), Some(*c + 1)),
        None => (path.to_owned(), None, None),
    };
    let snip = line.and_then(|l| jobs.get(&file).and_then(|j| snippet(&j.source, l, col)));
    RenderError {
        template: file,
        line,
        column: col,
        message,
        snippet: snip,
        included_from: Vec::new(),
    }
}

fn snippet(source: &str, line: usize, col: Option<usize>) -> Option<String> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let pad = " ".repeat(line.to_string().len() + 2);
    let mut s = format!("{pad}|\n {line} | {text}");
    if let Some(c) = col {
        let before = text.get(..c.saturating_sub(1)).unwrap_or("");
        s.push_str(&format!("\n{pad}| {}^", " ".repeat(before.chars().count())));
    }
    Some(s)
}

/// Templates parsed ahead of rendering (while values are computed), by chart file.
#[derive(Default)]
pub struct Preparsed {
    trees: HashMap<FileKey, (Tree, Vec<Tree>)>,
}

/// A chart file while its chart is alive: where its bytes are and how many (cheaper to
/// hash than its text).
type FileKey = (usize, usize);

fn file_key(file: &crate::chart::ChartFile) -> FileKey {
    (file.data.as_ptr() as usize, file.data.len())
}

/// A Go template to parse ahead: which file, and its text.
#[derive(Debug)]
pub struct Source {
    key: FileKey,
    /// The template's text.
    pub text: std::sync::Arc<str>,
}

impl std::fmt::Debug for Preparsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preparsed({} files)", self.trees.len())
    }
}

/// Name files are parsed under ahead of time, replaced when they are used.
const AHEAD_NAME: &str = "(ahead)";

/// Every Go template of a chart tree, so that parsing can run beside value computation.
pub fn sources(chart: &crate::chart::Chart) -> Vec<Source> {
    fn walk(c: &crate::chart::Chart, out: &mut Vec<Source>) {
        if c.engine() == crate::chart::Engine::Helm {
            out.extend(c.templates.iter().map(|f| Source {
                key: file_key(f),
                text: std::sync::Arc::from(f.text()),
            }));
        }
        for d in &c.dependencies {
            walk(d, out);
        }
    }
    let mut out = Vec::new();
    walk(chart, &mut out);
    out
}

/// Templates to parse ahead of rendering, shared out between threads: each takes the next
/// file until none is left. Files that fail are left out (they are parsed again under their
/// own name, for the error). Run it on threads of [`STACK_BYTES`] or on the main thread:
/// parsing recurses only as deep as actions nest.
#[derive(Debug, Default)]
pub struct ParseQueue {
    sources: Vec<Source>,
    next: std::sync::atomic::AtomicUsize,
    parsed: std::sync::Mutex<Preparsed>,
}

impl ParseQueue {
    /// A queue of `sources` (see [`sources`]).
    pub fn new(sources: Vec<Source>) -> ParseQueue {
        ParseQueue {
            sources,
            ..ParseQueue::default()
        }
    }

    /// Parses files until none is left to take.
    pub fn work(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(src) = self.sources.get(i) else {
                return;
            };
            if let Ok(parsed) =
                parse::parse_shared(AHEAD_NAME, src.text.clone(), &exec::has_function)
                && let Ok(mut done) = self.parsed.lock()
            {
                done.trees.insert(src.key, parsed);
            }
        }
    }

    /// What was parsed (by every thread that has returned from [`ParseQueue::work`]).
    pub fn take(&self) -> Preparsed {
        self.parsed
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}
