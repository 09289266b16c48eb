//! The native template engine: minijinja configured for YAML output (no auto-escaping,
//! `true`/`false` and empty null, trailing newlines kept, `trim_blocks`/`lstrip_blocks`),
//! Helm's objects and function library, and `include`/`tpl` over Helm's define namespace.

pub mod defines;
pub mod objects;

use super::context::{self, ReleaseInfo};
use super::{ChartRender, RenderError, RenderOptions, RenderedFile, Sources};
use crate::funcs::{self, Pipe};
use crate::k8s::Capabilities;
use crate::value::{Map, Value, format_float};
/// A minijinja map.
pub type MjMap = indexmap::IndexMap<MjValue, MjValue>;

use minijinja::value::{Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value as MjValue};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How deep `include`/`tpl` may nest before the render stops.
pub const MAX_INCLUDE_DEPTH: usize = 100;
/// How many `include`/`tpl` calls one render may make in all.
pub const MAX_INCLUDE_CALLS: usize = 1_000_000;
/// Fuel (roughly instructions) one template render may spend.
pub const FUEL: u64 = 50_000_000;

/// Our value as a minijinja value.
pub fn to_mj(v: &Value) -> MjValue {
    match v {
        Value::Null => MjValue::from(()),
        Value::Bool(b) => MjValue::from(*b),
        Value::Int(i) => MjValue::from(*i),
        Value::Float(f) => MjValue::from(*f),
        Value::String(s) => MjValue::from(s.as_str()),
        Value::List(l) => MjValue::from(l.iter().map(to_mj).collect::<Vec<_>>()),
        Value::Map(m) => to_mj_map(m),
    }
}

/// A map of ours as a minijinja map.
pub fn to_mj_map(m: &Map) -> MjValue {
    MjValue::from(
        m.iter()
            .map(|(k, v)| (MjValue::from(k.as_str()), to_mj(v)))
            .collect::<MjMap>(),
    )
}

/// A minijinja value as ours (undefined becomes null; objects are read as maps or lists).
pub fn from_mj(v: &MjValue) -> Value {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => {
            if v.is_integer() {
                v.as_i64().map_or_else(
                    || Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN)),
                    Value::Int,
                )
            } else {
                Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN))
            }
        }
        ValueKind::String => Value::String(v.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bytes => {
            Value::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => Value::List(
            v.try_iter()
                .map(|it| it.map(|x| from_mj(&x)).collect())
                .unwrap_or_default(),
        ),
        ValueKind::Map => {
            let mut m = Map::default();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let val = v.get_item(&k).unwrap_or_default();
                    let key = k.as_str().map_or_else(|| k.to_string(), str::to_owned);
                    m.insert(key, from_mj(&val));
                }
            }
            Value::Map(m)
        }
        _ => Value::String(v.to_string()),
    }
}

fn func_error(e: funcs::FuncError) -> Error {
    Error::new(ErrorKind::InvalidOperation, e.0)
}

/// Counters shared by every nested `include`/`tpl` render of one chart render.
#[derive(Debug, Default)]
struct Budget {
    depth: AtomicUsize,
    calls: AtomicUsize,
}

impl Budget {
    fn enter(&self, what: &str, name: &str) -> Result<DepthGuard<'_>, Error> {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if calls > MAX_INCLUDE_CALLS {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("too many include/tpl calls (over {MAX_INCLUDE_CALLS}): runaway template?"),
            ));
        }
        let depth = self.depth.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = DepthGuard(&self.depth);
        if depth > MAX_INCLUDE_DEPTH {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "{what} {name:?} nests deeper than {MAX_INCLUDE_DEPTH} levels: is it calling itself?"
                ),
            ));
        }
        Ok(guard)
    }
}

struct DepthGuard<'a>(&'a AtomicUsize);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

const DEFINE_PREFIX: &str = "define::";

/// The context a template renders with: the chart's objects, `Template`, and `ctx` (the
/// objects themselves, to pass to `include`).
fn render_context(base: &MjMap, template: Option<MjValue>) -> MjValue {
    let mut m = base.clone();
    if let Some(t) = template {
        m.insert(MjValue::from("Template"), t);
    }
    let as_value = MjValue::from(m.clone());
    m.insert(MjValue::from("ctx"), as_value);
    MjValue::from(m)
}

/// The context of an included template: the passed value as `ctx`, and, when it is a map,
/// its entries as names of their own.
fn include_context(ctx: &MjValue) -> MjValue {
    let mut m = MjMap::new();
    if ctx.kind() == ValueKind::Map
        && let Ok(keys) = ctx.try_iter()
    {
        for k in keys {
            if let (Some(name), Ok(v)) = (k.as_str(), ctx.get_item(&k)) {
                m.insert(MjValue::from(name), v);
            }
        }
    }
    m.insert(MjValue::from("ctx"), ctx.clone());
    MjValue::from(m)
}

fn format_output(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &MjValue,
) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(()),
        ValueKind::Bool => out
            .write_str(if value.is_true() { "true" } else { "false" })
            .map_err(Error::from),
        ValueKind::Number if !value.is_integer() => out
            .write_str(&format_float(
                f64::try_from(value.clone()).unwrap_or(f64::NAN),
            ))
            .map_err(Error::from),
        ValueKind::Seq | ValueKind::Map => out
            .write_str(&from_mj(value).to_string())
            .map_err(Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Builds the environment for a chart tree: every template of every native chart, and
/// the defines of all of them (a parent's define overriding a subchart's).
/// The environment, where each define comes from, and every template's source.
type Built = (Environment<'static>, HashMap<String, String>, Sources);

fn environment(
    charts: &[ChartRender<'_>],
    opts: &RenderOptions,
) -> Result<Built, Box<RenderError>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(if opts.strict {
        UndefinedBehavior::SemiStrict
    } else {
        UndefinedBehavior::Lenient
    });
    env.set_formatter(format_output);
    env.set_fuel(Some(FUEL));
    env.set_debug(false);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| Box::new(RenderError::engine(e.to_string())))?;
    env.set_syntax(syntax);
    register_functions(&mut env, used_names(charts).as_ref());

    // Define origins, for error messages: define name → file it came from.
    let mut define_files: HashMap<String, String> = HashMap::new();
    let mut sources = Sources::new();
    // Deepest charts first, so that parents override subcharts' defines; within a chart,
    // files in reverse order so that the first file wins, as in Helm.
    let mut order: Vec<&ChartRender<'_>> = charts.iter().collect();
    order.sort_by_key(|c| std::cmp::Reverse(c.depth));
    for cr in order {
        let mut files: Vec<_> = cr.chart.templates.iter().collect();
        files.sort_by(|a, b| b.name.cmp(&a.name));
        for file in files {
            let path = format!("{}/{}", cr.prefix, file.name);
            let text = file.text();
            let (host, defs) = defines::extract(&text).map_err(|e| {
                Box::new(RenderError {
                    template: path.clone(),
                    line: Some(e.line),
                    column: None,
                    message: e.message.clone(),
                    snippet: None,
                    included_from: Vec::new(),
                })
            })?;
            for d in defs {
                let name = format!("{DEFINE_PREFIX}{}", d.name);
                sources.insert(name.clone(), d.source.clone());
                env.add_template_owned(name, d.source)
                    .map_err(|e| Box::new(RenderError::from_mj(&e, &path, &sources)))?;
                define_files.insert(d.name, path.clone());
            }
            if !cr.chart.metadata.is_library() {
                sources.insert(path.clone(), host.clone());
                env.add_template_owned(path.clone(), host)
                    .map_err(|e| Box::new(RenderError::from_mj(&e, &path, &sources)))?;
            }
        }
    }
    Ok((env, define_files, sources))
}

/// Every identifier in the templates: only library functions named there are registered
/// (registering all ~250 as functions and filters costs more than rendering a small
/// chart). `None` when a template calls `tpl`, whose text may name any function.
fn used_names(charts: &[ChartRender<'_>]) -> Option<foldhash::HashSet<String>> {
    let mut names = foldhash::HashSet::default();
    for cr in charts {
        for file in &cr.chart.templates {
            let words = file
                .data
                .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .filter(|w| !w.is_empty() && w[0].is_ascii_alphabetic());
            for w in words {
                if !names.contains(w) {
                    names.insert(w.to_vec());
                }
            }
        }
    }
    if names.contains(b"tpl".as_slice()) {
        return None;
    }
    Some(
        names
            .into_iter()
            .filter_map(|w| String::from_utf8(w).ok())
            .collect(),
    )
}

fn register_functions(env: &mut Environment<'static>, used: Option<&foldhash::HashSet<String>>) {
    let overrides = funcs::yaml::NATIVE_OVERRIDES;
    let library = funcs::all()
        .into_iter()
        .filter(|f| !overrides.iter().any(|o| o.name == f.name));
    let wanted = |name: &str| used.is_none_or(|u| u.contains(name));
    for f in library
        .chain(overrides.iter().copied())
        .filter(|f| wanted(f.name))
    {
        let call = f.call;
        env.add_function(
            f.name,
            move |args: Rest<MjValue>| -> Result<MjValue, Error> {
                let args: Vec<Value> = args.iter().map(from_mj).collect();
                call(&args).map(|v| to_mj(&v)).map_err(func_error)
            },
        );
        let pipe = f.pipe;
        env.add_filter(
            f.name,
            move |piped: MjValue, args: Rest<MjValue>| -> Result<MjValue, Error> {
                let mut all: Vec<Value> = args.iter().map(from_mj).collect();
                match pipe {
                    Pipe::Last => all.push(from_mj(&piped)),
                    Pipe::First => all.insert(0, from_mj(&piped)),
                }
                call(&all).map(|v| to_mj(&v)).map_err(func_error)
            },
        );
    }
}

/// `lookup(apiVersion, kind, namespace, name)`: the cluster's object during install and
/// upgrade; offline it finds nothing (an empty map).
fn add_lookup(env: &mut Environment<'static>, table: Option<Arc<crate::render::LookupTable>>) {
    env.add_function(
        "lookup",
        move |api_version: String,
              kind: String,
              namespace: String,
              name: String|
              -> Result<MjValue, Error> {
            let Some(t) = &table else {
                return Ok(MjValue::from(MjMap::new()));
            };
            Ok(to_mj(&t.answer(crate::render::LookupKey {
                api_version,
                kind,
                namespace,
                name,
            })))
        },
    );
}

fn add_engine_functions(
    env: &mut Environment<'static>,
    budget: Arc<Budget>,
    foreign: Arc<std::collections::HashSet<String>>,
) {
    let b = budget.clone();
    env.add_function(
        "include",
        move |state: &State, name: String, ctx: Option<MjValue>| -> Result<MjValue, Error> {
            let _guard = b.enter("include", &name)?;
            let tmpl = state
                .env()
                .get_template(&format!("{DEFINE_PREFIX}{name}"))
                .map_err(|_| {
                    let msg = if foreign.contains(&name) {
                        format!(
                            "template {name:?} is defined in a Helm (Go-template) chart of this tree; a native chart cannot include Go templates: define it in a native chart with {{% define \"{name}\" %}}"
                        )
                    } else {
                        format!(
                            "no template named {name:?}: define it with {{% define \"{name}\" %}}"
                        )
                    };
                    Error::new(ErrorKind::TemplateNotFound, msg)
                })?;
            let ctx = ctx.unwrap_or_default();
            let out = tmpl.render(include_context(&ctx)).map_err(|e| {
                Error::new(ErrorKind::InvalidOperation, format!("in include {name:?}"))
                    .with_source(e)
            })?;
            Ok(MjValue::from(out))
        },
    );
    let b = budget;
    env.add_function(
        "tpl",
        move |state: &State, text: String, ctx: Option<MjValue>| -> Result<MjValue, Error> {
            let _guard = b.enter("tpl", "")?;
            let ctx = ctx.unwrap_or_default();
            let name = format!("{} (tpl)", state.name());
            let out = state
                .env()
                .render_named_str(&name, &text, include_context(&ctx))
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, "in tpl").with_source(e))?;
            Ok(MjValue::from(out))
        },
    );
}

/// Renders every native chart of the tree; `charts` lists each chart with its values.
pub fn render(
    charts: &[ChartRender<'_>],
    release: &ReleaseInfo,
    caps: &Capabilities,
    opts: &RenderOptions,
) -> Result<Vec<RenderedFile>, Box<RenderError>> {
    let (mut env, define_files, sources) = environment(charts, opts)?;
    let budget = Arc::new(Budget::default());
    add_engine_functions(&mut env, budget, opts.foreign_defines.clone());
    add_lookup(&mut env, opts.lookup.clone());

    let release_v = to_mj(&context::release(release));
    let caps_v = objects::capabilities(&context::capabilities(caps), caps.api_versions.clone());
    // Each chart's objects, shared by its templates and by its parent's `Subcharts`.
    let mut bases: HashMap<String, MjMap> = HashMap::new();
    let mut order: Vec<&ChartRender<'_>> = charts.iter().collect();
    order.sort_by_key(|c| std::cmp::Reverse(c.depth));
    for cr in &order {
        let mut base = MjMap::new();
        base.insert(MjValue::from("Values"), to_mj_map(&cr.values));
        base.insert(MjValue::from("Release"), release_v.clone());
        base.insert(
            MjValue::from("Chart"),
            to_mj(&context::chart(&cr.chart.metadata, cr.depth == 0)),
        );
        base.insert(MjValue::from("Capabilities"), caps_v.clone());
        base.insert(
            MjValue::from("Files"),
            MjValue::from_object(crate::render::files::Files::new(&cr.chart.files)),
        );
        let mut subcharts = MjMap::new();
        for sub in &cr.chart.dependencies {
            let sub_prefix = format!("{}/charts/{}", cr.prefix, sub.name());
            if let Some(sub_base) = bases.get(&sub_prefix) {
                subcharts.insert(MjValue::from(sub.name()), render_context(sub_base, None));
            }
        }
        base.insert(MjValue::from("Subcharts"), MjValue::from(subcharts));
        bases.insert(cr.prefix.clone(), base);
    }

    let mut out = Vec::new();
    for cr in charts {
        if cr.chart.metadata.is_library() {
            continue;
        }
        let base = &bases[&cr.prefix];
        for file in &cr.chart.templates {
            let base_name = file.name.rsplit('/').next().unwrap_or(&file.name);
            if base_name.starts_with('_') {
                continue;
            }
            let path = format!("{}/{}", cr.prefix, file.name);
            let template_obj = {
                let mut t = MjMap::new();
                t.insert(MjValue::from("Name"), MjValue::from(path.as_str()));
                t.insert(
                    MjValue::from("BasePath"),
                    MjValue::from(format!("{}/templates", cr.prefix)),
                );
                MjValue::from(t)
            };
            let tmpl = env
                .get_template(&path)
                .map_err(|e| Box::new(RenderError::from_mj(&e, &path, &sources)))?;
            let content = tmpl
                .render(render_context(base, Some(template_obj)))
                .map_err(|e| {
                    Box::new(RenderError::from_mj_chain(
                        &e,
                        &path,
                        &define_files,
                        &sources,
                    ))
                })?;
            out.push(RenderedFile {
                path,
                content,
                native: true,
                template_source: file.text().into(),
            });
        }
    }
    Ok(out)
}
