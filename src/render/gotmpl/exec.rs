//! The evaluator of Go's `text/template` with Helm's options: `missingkey=zero`, Helm's
//! `include`/`tpl`/`required`/`fail`/`lookup`, and Go's rules for fields, pipelines,
//! variables, `range`, truth and errors. Library functions come from [`crate::funcs`].

use super::parse::{Arg, Command, Control, ControlKind, Node, Pipe, Tree, parse};
use super::value::{Fields, Obj, V};
use crate::funcs::{self, Func, FuncError};
use crate::value::Value;
use std::cell::{Cell, RefCell};
/// Maps keyed by template and function names, looked up on every call: foldhash, not SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt::{self, Display};
use std::rc::Rc;
use std::sync::OnceLock;

/// How deeply `include` may nest one name (Helm's limit).
pub const INCLUDE_MAX: usize = 1000;
/// Go's limit on nested `template` calls.
pub const TEMPLATE_MAX_DEPTH: usize = 100_000;
/// Steps one render may take before pack stops it (Helm would run forever).
pub const MAX_STEPS: u64 = 500_000_000;
/// Helm's markers around `required`/`fail` messages.
pub const WARN_START: &str = "HELM_ERR_START";
/// End marker.
pub const WARN_END: &str = "HELM_ERR_END";
/// The name of Helm's root template, which `tpl` templates take.
pub const ROOT_NAME: &str = "gotpl";

/// Functions the engine implements itself (short-circuits, templates, identity of maps).
const ENGINE_FUNCS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "include",
    "tpl",
    "required",
    "fail",
    "lookup",
    "dict",
    "list",
    "get",
    "set",
    "unset",
    "hasKey",
    "default",
    "empty",
    "ternary",
    "first",
    "last",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
    "call",
];

/// Library functions whose integers are Go `int`s (the others give `int64`s).
const GO_INT_RESULTS: &[&str] = &["int", "atoi", "randInt", "until", "untilStep", "len"];

/// Sprig functions Helm removes.
const REMOVED: &[&str] = &["env", "expandenv"];

fn library() -> &'static HashMap<&'static str, Func> {
    static LIB: OnceLock<HashMap<&'static str, Func>> = OnceLock::new();
    LIB.get_or_init(|| {
        funcs::all()
            .into_iter()
            .filter(|f| !REMOVED.contains(&f.name))
            .map(|f| (f.name, f))
            .collect()
    })
}

/// True when templates may call `name`.
pub fn has_function(name: &str) -> bool {
    ENGINE_FUNCS.contains(&name) || library().contains_key(name)
}

/// A failed execution: Go's error text, and where the innermost failure is.
#[derive(Debug, Clone)]
pub struct ExecError {
    /// Go's full message (`template: file:line:col: executing "name" at <node>: msg`).
    pub text: String,
    /// The innermost failing file, line and column, for pointing at the source.
    pub origin: Option<(String, usize, usize)>,
    /// The error of a nested `include`/`tpl` this one wraps (Go's `%w` chain).
    pub cause: Option<Box<Cause>>,
}

/// What a nested call failed with.
#[derive(Debug, Clone)]
pub enum Cause {
    /// A template execution error.
    Exec(ExecError),
    /// Any other error, by its text.
    Plain(String),
}

impl ExecError {
    /// The texts of the error chain, outermost first.
    pub fn chain(&self) -> Vec<&str> {
        let mut out = vec![self.text.as_str()];
        let mut cur = self.cause.as_deref();
        while let Some(c) = cur {
            match c {
                Cause::Exec(e) => {
                    out.push(&e.text);
                    cur = e.cause.as_deref();
                }
                Cause::Plain(p) => {
                    out.push(p);
                    cur = None;
                }
            }
        }
        out
    }
}

/// What stops a walk: `break`, `continue` or an error.
enum Flow {
    Break,
    Continue,
    Fail(Box<ExecError>),
}

type R<T> = Result<T, Flow>;

/// Every template of a render, by name.
#[derive(Default)]
pub struct Set {
    trees: HashMap<String, Rc<Tree>>,
}

impl Set {
    /// Adds a parsed tree; an empty one does not replace an existing template (Go's rule).
    pub fn add(&mut self, tree: Tree) {
        if tree.is_empty()
            && let Some(old) = self.trees.get(&tree.name)
            && !old.is_empty()
        {
            return;
        }
        self.trees.insert(tree.name.clone(), Rc::new(tree));
    }

    /// The template of this name.
    pub fn get(&self, name: &str) -> Option<Rc<Tree>> {
        self.trees.get(name).cloned()
    }
}

/// Executes templates of one set; shared by nested `include`/`tpl` calls.
pub struct Engine {
    set: Set,
    included: RefCell<HashMap<String, usize>>,
    tpl_cache: RefCell<HashMap<String, Rc<TplParsed>>>,
    steps: Cell<u64>,
    max_steps: u64,
    strict: bool,
    foreign: std::sync::Arc<std::collections::HashSet<String>>,
    lookup: Option<std::sync::Arc<crate::render::LookupTable>>,
}

struct TplParsed {
    root: Rc<Tree>,
    defines: Rc<HashMap<String, Rc<Tree>>>,
}

/// Templates visible to one execution: the set, plus a `tpl` string's own defines.
#[derive(Clone, Default)]
struct Scope {
    overlay: Option<Rc<HashMap<String, Rc<Tree>>>>,
}

struct State<'e> {
    eng: &'e Engine,
    tree: Rc<Tree>,
    scope: Scope,
    vars: Vec<(String, V)>,
    depth: usize,
    /// `.` is an element of a list or map (a Go `interface {}`), which error messages name.
    iface_dot: bool,
}

impl Engine {
    /// An engine over a set of templates.
    pub fn new(set: Set, strict: bool) -> Engine {
        Engine {
            set,
            included: RefCell::default(),
            tpl_cache: RefCell::default(),
            steps: Cell::new(0),
            max_steps: MAX_STEPS,
            strict,
            foreign: std::sync::Arc::default(),
            lookup: None,
        }
    }

    /// Answers `lookup` from a cluster's objects instead of finding nothing.
    pub fn with_lookup(
        mut self,
        table: Option<std::sync::Arc<crate::render::LookupTable>>,
    ) -> Engine {
        self.lookup = table;
        self
    }

    /// Names defined by native charts of a mixed tree, for a clearer `include` error.
    pub fn with_foreign_defines(
        mut self,
        names: std::sync::Arc<std::collections::HashSet<String>>,
    ) -> Engine {
        self.foreign = names;
        self
    }

    /// The same engine with another step budget.
    pub fn with_max_steps(mut self, max_steps: u64) -> Engine {
        self.max_steps = max_steps;
        self
    }

    /// Executes the template `name` with `data` as `.` and `$`.
    pub fn execute(&self, name: &str, data: &V) -> Result<String, ExecError> {
        let Some(tree) = self.set.get(name) else {
            return Err(ExecError {
                text: format!(
                    "template: no template {name:?} associated with template {ROOT_NAME:?}"
                ),
                origin: None,
                cause: None,
            });
        };
        let mut out = String::new();
        self.run(tree, Scope::default(), data, 0, &mut out)?;
        Ok(out)
    }

    fn run(
        &self,
        tree: Rc<Tree>,
        scope: Scope,
        data: &V,
        depth: usize,
        out: &mut String,
    ) -> Result<(), ExecError> {
        let mut st = State {
            eng: self,
            tree: tree.clone(),
            scope,
            vars: vec![("$".into(), data.clone())],
            depth,
            iface_dot: false,
        };
        match st.walk_list(data, &tree.root, out) {
            Ok(()) => Ok(()),
            Err(Flow::Fail(e)) => Err(*e),
            // The parser keeps break/continue inside range.
            Err(Flow::Break | Flow::Continue) => Ok(()),
        }
    }

    fn lookup(&self, scope: &Scope, name: &str) -> Option<Rc<Tree>> {
        if let Some(o) = &scope.overlay
            && let Some(t) = o.get(name)
        {
            return Some(t.clone());
        }
        self.set.get(name)
    }
}

/// The type of a value as Go's error messages name it.
fn type_of(v: &V) -> &'static str {
    v.go_type()
}

impl State<'_> {
    fn fail(&self, pos: usize, context: &dyn Display, msg: impl Display) -> Flow {
        let (line, col) = self.tree.location(pos);
        Flow::Fail(Box::new(ExecError {
            text: format!(
                "template: {}:{line}:{col}: executing {:?} at <{context}>: {msg}",
                self.tree.parse_name, self.tree.name
            ),
            origin: Some((self.tree.parse_name.to_string(), line, col)),
            cause: plain_cause(&msg.to_string()),
        }))
    }

    /// An error from a nested execution, wrapped as the call that ran it.
    fn fail_nested(&self, pos: usize, context: &dyn Display, msg: String, inner: Cause) -> Flow {
        let (line, col) = self.tree.location(pos);
        Flow::Fail(Box::new(ExecError {
            text: format!(
                "template: {}:{line}:{col}: executing {:?} at <{context}>: {msg}",
                self.tree.parse_name, self.tree.name
            ),
            origin: match &inner {
                Cause::Exec(e) => e.origin.clone(),
                Cause::Plain(_) => None,
            }
            .or_else(|| Some((self.tree.parse_name.to_string(), line, col))),
            cause: Some(Box::new(inner)),
        }))
    }

    fn step(&self, pos: usize) -> R<()> {
        let n = self.eng.steps.get() + 1;
        self.eng.steps.set(n);
        if n > self.eng.max_steps {
            return Err(self.fail(
                pos,
                &"",
                format!(
                    "template ran too long (over {} steps): runaway template?",
                    self.eng.max_steps
                ),
            ));
        }
        Ok(())
    }

    fn walk_list(&mut self, dot: &V, list: &[Node], out: &mut String) -> R<()> {
        for n in list {
            self.walk(dot, n, out)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &V, node: &Node, out: &mut String) -> R<()> {
        match node {
            Node::Text(a, b) => {
                out.push_str(&self.tree.text[*a..*b]);
                Ok(())
            }
            Node::Action(pipe) => {
                self.step(pipe.pos)?;
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    v.print(out);
                }
                Ok(())
            }
            Node::Control(c) => match c.kind {
                ControlKind::If | ControlKind::With => self.walk_if_with(dot, c, out),
                ControlKind::Range => self.walk_range(dot, c, out),
            },
            Node::Template { pos, name, pipe } => {
                self.walk_template(dot, *pos, name, pipe.as_ref(), out)
            }
            Node::Break(_) => Err(Flow::Break),
            Node::Continue(_) => Err(Flow::Continue),
        }
    }

    fn walk_if_with(&mut self, dot: &V, c: &Control, out: &mut String) -> R<()> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &c.pipe)?;
        let r = if val.truth() {
            if c.kind == ControlKind::With {
                let was = std::mem::replace(&mut self.iface_dot, false);
                let r = self.walk_list(&val, &c.list, out);
                self.iface_dot = was;
                r
            } else {
                self.walk_list(dot, &c.list, out)
            }
        } else if let Some(e) = &c.else_list {
            self.walk_list(dot, e, out)
        } else {
            Ok(())
        };
        self.vars.truncate(mark);
        r
    }

    fn set_var(&mut self, name: &str, v: V) -> bool {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
            return true;
        }
        false
    }

    fn set_top_var(&mut self, n: usize, v: V) {
        let len = self.vars.len();
        self.vars[len - n].1 = v;
    }

    fn walk_range(&mut self, dot: &V, c: &Control, out: &mut String) -> R<()> {
        let mark = self.vars.len();
        let r = self.walk_range_inner(dot, c, out);
        self.vars.truncate(mark);
        match r {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn one_iteration(&mut self, c: &Control, index: V, elem: V, out: &mut String) -> R<()> {
        let decl = &c.pipe.decl;
        if !decl.is_empty() {
            if c.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0], index.clone());
                } else {
                    self.set_var(&decl[0], elem.clone());
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if c.pipe.is_assign {
                self.set_var(&decl[1], elem.clone());
            } else {
                self.set_top_var(2, index);
            }
        }
        let mark = self.vars.len();
        let was = std::mem::replace(&mut self.iface_dot, true);
        let r = self.walk_list(&elem, &c.list, out);
        self.iface_dot = was;
        self.vars.truncate(mark);
        match r {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &V, c: &Control, out: &mut String) -> R<()> {
        let val = self.eval_pipeline(dot, &c.pipe)?;
        match &val {
            V::List(l) if !l.is_empty() => {
                for (i, e) in l.iter().enumerate() {
                    self.step(c.pos)?;
                    self.one_iteration(c, V::Int(i as i64), e.clone(), out)?;
                }
                return Ok(());
            }
            V::Map(m) if !m.borrow().is_empty() => {
                let mut entries: Vec<(String, V)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, v) in entries {
                    self.step(c.pos)?;
                    self.one_iteration(c, V::str(&k), v, out)?;
                }
                return Ok(());
            }
            V::Obj(o) => match &**o {
                Obj::Files(f) if f.names().next().is_some() => {
                    let names: Vec<String> = f.names().map(str::to_owned).collect();
                    for n in names {
                        self.step(c.pos)?;
                        let data = V::Bytes(Rc::from(f.get(&n).unwrap_or_default()));
                        self.one_iteration(c, V::str(&n), data, out)?;
                    }
                    return Ok(());
                }
                Obj::ApiVersions(v) if !v.is_empty() => {
                    let items = v.clone();
                    for (i, s) in items.iter().enumerate() {
                        self.one_iteration(c, V::Int(i as i64), V::str(s), out)?;
                    }
                    return Ok(());
                }
                Obj::Files(_) | Obj::ApiVersions(_) => {}
                Obj::KubeVersion(..) | Obj::Struct(..) => {
                    let (pos, at) = range_at(c);
                    return Err(self.fail(
                        pos,
                        &at,
                        format!("range can't iterate over {}", print_v(&val)),
                    ));
                }
            },
            V::Int(n) | V::Int64(n) => {
                if c.pipe.decl.len() > 1 {
                    let (pos, at) = range_at(c);
                    return Err(self.fail(
                        pos,
                        &at,
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                if *n > 0 {
                    for i in 0..*n {
                        self.step(c.pos)?;
                        self.one_iteration(c, V::Int(i), V::Int(i), out)?;
                    }
                    return Ok(());
                }
            }
            V::List(_) | V::Map(_) | V::Missing | V::Nil => {}
            other => {
                let (pos, at) = range_at(c);
                return Err(self.fail(
                    pos,
                    &at,
                    format!("range can't iterate over {}", print_v(other)),
                ));
            }
        }
        if let Some(e) = &c.else_list {
            self.walk_list(dot, e, out)?;
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &V,
        pos: usize,
        name: &str,
        pipe: Option<&Pipe>,
        out: &mut String,
    ) -> R<()> {
        let ctx = TemplateCtx(name, pipe);
        let Some(tree) = self.eng.lookup(&self.scope, name) else {
            return Err(self.fail(pos, &ctx, format!("template {name:?} not defined")));
        };
        if self.depth >= TEMPLATE_MAX_DEPTH {
            return Err(self.fail(
                pos,
                &ctx,
                format!("exceeded maximum template depth ({TEMPLATE_MAX_DEPTH})"),
            ));
        }
        let data = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => V::Missing,
        };
        let mut st = State {
            eng: self.eng,
            tree: tree.clone(),
            scope: self.scope.clone(),
            vars: vec![("$".into(), data.clone())],
            depth: self.depth + 1,
            iface_dot: false,
        };
        match st.walk_list(&data, &tree.root, out) {
            Err(Flow::Break | Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn eval_pipeline(&mut self, dot: &V, pipe: &Pipe) -> R<V> {
        let mut value: Option<V> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?.settle());
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                if !self.set_var(name, value.clone()) {
                    let at = pipe.cmds.last().and_then(|c| c.args.first());
                    let (pos, ctx) =
                        at.map_or((pipe.pos, String::new()), |a| (a.pos(), a.to_string()));
                    return Err(self.fail(pos, &ctx, format!("undefined variable: {name}")));
                }
            } else {
                self.vars.push((name.to_string(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, final_: &Option<V>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            return Err(self.fail(
                cmd.args[0].pos(),
                &cmd.args[0],
                format!("can't give argument to non-function {}", cmd.args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &V, cmd: &Command, final_: Option<V>) -> R<V> {
        let first = &cmd.args[0];
        match first {
            Arg::Field(_, ids) => {
                let iface = self.iface_dot;
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    first,
                    ids,
                    &cmd.args,
                    final_,
                    iface,
                );
            }
            Arg::Chain(pos, node, fields) => {
                return self.eval_chain(dot, first, *pos, node, fields, &cmd.args, final_);
            }
            Arg::Identifier(pos, name) => return self.eval_function(dot, *pos, name, cmd, final_),
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable(_, ids) => {
                let v = self.var_value(&ids[0]);
                if ids.len() == 1 {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                return self.eval_field_chain(dot, v, first, &ids[1..], &cmd.args, final_, false);
            }
            _ => {}
        }
        self.not_a_function(cmd, &final_)?;
        match first {
            Arg::Bool(_, b) => Ok(V::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(pos) => Err(self.fail(*pos, first, "nil is not a command")),
            Arg::Number(pos, n) => self.ideal_constant(*pos, n),
            Arg::String(_, _, s) => Ok(V::str(s)),
            _ => Err(self.fail(
                first.pos(),
                first,
                format!("can't evaluate command {first:?}"),
            )),
        }
    }

    fn ideal_constant(&self, pos: usize, n: &super::parse::Number) -> R<V> {
        let is_hex = {
            let t = n.text.trim_start_matches(['+', '-']);
            (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P'])
        };
        if n.float.is_some() && !is_hex && !n.is_char && n.text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(V::Float(n.float.unwrap_or_default()));
        }
        match n.int {
            Some(i) => Ok(V::Int(i)),
            None => Err(self.fail(pos, &n.text, format!("{} overflows int", n.text))),
        }
    }

    fn var_value(&self, name: &str) -> V {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// An argument's value (Go's `evalArg` for an `interface{}` parameter).
    fn eval_arg(&mut self, dot: &V, arg: &Arg) -> R<V> {
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(V::Missing),
            Arg::Field(_, ids) => {
                let iface = self.iface_dot;
                self.eval_field_chain(dot, dot.clone(), arg, ids, &[], None, iface)
            }
            Arg::Variable(_, ids) => {
                let v = self.var_value(&ids[0]);
                if ids.len() == 1 {
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, arg, &ids[1..], &[], None, false)
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Identifier(pos, name) => {
                let cmd = Command {
                    pos: *pos,
                    args: Box::new([arg.clone()]),
                };
                self.eval_function(dot, *pos, name, &cmd, None)
            }
            Arg::Chain(pos, node, fields) => {
                self.eval_chain(dot, arg, *pos, node, fields, &[], None)
            }
            Arg::Bool(_, b) => Ok(V::Bool(*b)),
            Arg::Number(pos, n) => self.ideal_constant(*pos, n),
            Arg::String(_, _, s) => Ok(V::str(s)),
        }
    }

    /// `(pipeline).a.b`: the pipeline's value, then its fields (errors reported where Go
    /// reports them: at the word evaluated last inside the parentheses).
    #[allow(clippy::too_many_arguments)]
    fn eval_chain(
        &mut self,
        dot: &V,
        chain: &Arg,
        pos: usize,
        node: &Arg,
        fields: &[Box<str>],
        args: &[Arg],
        final_: Option<V>,
    ) -> R<V> {
        if let Arg::Nil(_) = *node {
            return Err(self.fail(
                pos,
                chain,
                format!("indirection through explicit nil in {chain}"),
            ));
        }
        let recv = self.eval_arg(dot, node)?;
        let at = last_evaluated(node).unwrap_or(chain);
        self.eval_field_chain(dot, recv, at, fields, args, final_, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &V,
        mut receiver: V,
        node: &Arg,
        idents: &[Box<str>],
        args: &[Arg],
        final_: Option<V>,
        iface_receiver: bool,
    ) -> R<V> {
        let n = idents.len();
        for (i, id) in idents.iter().enumerate().take(n.saturating_sub(1)) {
            receiver =
                self.eval_field(dot, id, node, &[], None, receiver, i > 0 || iface_receiver)?;
        }
        self.eval_field(
            dot,
            &idents[n - 1],
            node,
            args,
            final_,
            receiver,
            n > 1 || iface_receiver,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &V,
        name: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<V>,
        receiver: V,
        from_map: bool,
    ) -> R<V> {
        let pos = node.pos();
        match &receiver {
            V::Missing => {
                if self.eng.strict {
                    return Err(self.fail(
                        pos,
                        node,
                        format!("nil data; no entry for key {name:?}"),
                    ));
                }
                Ok(V::Missing)
            }
            V::Nil => Err(self.fail(
                pos,
                node,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            V::Obj(o) => {
                let o = o.clone();
                self.eval_method(dot, &o, name, node, args, final_, &receiver, from_map)
            }
            V::Map(m) => {
                if args.len() > 1 || final_.is_some() {
                    return Err(self.fail(
                        pos,
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                let found = m.borrow().get(name).cloned();
                match found {
                    Some(V::Missing) => Ok(V::Nil),
                    Some(v) => Ok(v),
                    None if self.eng.strict => {
                        Err(self.fail(pos, node, format!("map has no entry for key {name:?}")))
                    }
                    None => Ok(V::Nil),
                }
            }
            other => {
                let t = if from_map {
                    "interface {}"
                } else {
                    type_of(other)
                };
                Err(self.fail(
                    pos,
                    node,
                    format!("can't evaluate field {name} in type {t}"),
                ))
            }
        }
    }

    /// Arguments of a call after the function word, plus the piped value.
    fn call_args(&mut self, dot: &V, args: &[Arg], final_: Option<V>) -> R<Vec<V>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args.iter().skip(1) {
            out.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            out.push(f);
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_method(
        &mut self,
        dot: &V,
        o: &Rc<Obj>,
        name: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<V>,
        receiver: &V,
        from_map: bool,
    ) -> R<V> {
        let pos = node.pos();
        let has_args = args.len() > 1 || final_.is_some();
        let want_string = |this: &Self, vals: &[V], method: &str| -> R<String> {
            if let Some(arg) = args.get(1)
                && let Some(lit) = literal_mismatch(arg, "string")
            {
                return Err(this.fail(arg.pos(), arg, lit));
            }
            if vals.len() != 1 {
                return Err(this.fail(
                    pos,
                    node,
                    format!(
                        "wrong number of args for {method}: want 1 got {}",
                        vals.len()
                    ),
                ));
            }
            match &vals[0] {
                V::Str(s) => Ok(s.to_string()),
                V::Missing | V::Nil => Err(this.fail(pos, node, "invalid value; expected string")),
                other => Err(this.fail(
                    pos,
                    node,
                    format!(
                        "wrong type for value; expected string; got {}",
                        type_of(other)
                    ),
                )),
            }
        };
        match &**o {
            Obj::Files(f) => {
                let method = matches!(
                    name,
                    "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
                );
                if !method {
                    // A plain map of path to bytes.
                    if has_args {
                        return Err(self.fail(
                            pos,
                            node,
                            format!("{name} is not a method but has arguments"),
                        ));
                    }
                    return Ok(V::Bytes(Rc::from(f.get(name).unwrap_or_default())));
                }
                let vals = self.call_args(dot, args, final_)?;
                match name {
                    "AsConfig" | "AsSecrets" => {
                        if !vals.is_empty() {
                            return Err(self.fail(
                                pos,
                                node,
                                format!(
                                    "wrong number of args for {name}: want 0 got {}",
                                    vals.len()
                                ),
                            ));
                        }
                        Ok(V::str(&if name == "AsConfig" {
                            f.as_config()
                        } else {
                            f.as_secrets()
                        }))
                    }
                    "Get" => Ok(V::str(&f.text(&want_string(self, &vals, name)?))),
                    "GetBytes" => {
                        let path = want_string(self, &vals, name)?;
                        Ok(V::Bytes(Rc::from(f.get(&path).unwrap_or_default())))
                    }
                    "Lines" => Ok(V::List(Rc::new(
                        f.lines(&want_string(self, &vals, name)?)
                            .iter()
                            .map(|s| V::str(s))
                            .collect(),
                    ))),
                    _ => Ok(V::Obj(Rc::new(Obj::Files(
                        f.glob(&want_string(self, &vals, name)?),
                    )))),
                }
            }
            Obj::ApiVersions(list) => {
                if name != "Has" {
                    return Err(self.fail(
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {}", type_of(receiver)),
                    ));
                }
                let vals = self.call_args(dot, args, final_)?;
                let want = want_string(self, &vals, name)?;
                Ok(V::Bool(list.contains(&want)))
            }
            Obj::Struct(_, fields) => match fields.get(name) {
                Some(v) => {
                    if has_args {
                        return Err(self.fail(
                            pos,
                            node,
                            format!("{name} has arguments but cannot be invoked as function"),
                        ));
                    }
                    Ok(v.clone())
                }
                None => {
                    let t = if from_map {
                        "interface {}"
                    } else {
                        type_of(receiver)
                    };
                    Err(self.fail(
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {t}"),
                    ))
                }
            },
            Obj::KubeVersion(fields, text) => {
                if name == "String" {
                    let vals = self.call_args(dot, args, final_)?;
                    if !vals.is_empty() {
                        return Err(self.fail(
                            pos,
                            node,
                            format!("wrong number of args for String: want 0 got {}", vals.len()),
                        ));
                    }
                    return Ok(V::str(text));
                }
                match fields.get(name) {
                    Some(v) => {
                        if has_args {
                            return Err(self.fail(
                                pos,
                                node,
                                format!("{name} has arguments but cannot be invoked as function"),
                            ));
                        }
                        Ok(v.clone())
                    }
                    None => Err(self.fail(
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {}", type_of(receiver)),
                    )),
                }
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &V,
        pos: usize,
        name: &str,
        cmd: &Command,
        final_: Option<V>,
    ) -> R<V> {
        let ident = Ident(name);
        let nargs = cmd.args.len() - 1 + usize::from(final_.is_some());
        let arity = |this: &Self, want: usize, at_least: bool| -> R<()> {
            let bad = if at_least {
                nargs < want
            } else {
                nargs != want
            };
            if bad {
                let got = if at_least { cmd.args.len() - 1 } else { nargs };
                let rule = if at_least { "at least " } else { "" };
                return Err(this.fail(
                    pos,
                    &ident,
                    format!("wrong number of args for {name}: want {rule}{want} got {got}"),
                ));
            }
            Ok(())
        };
        match name {
            "and" | "or" => {
                arity(self, 1, true)?;
                let want = name == "or";
                let mut v = V::Missing;
                for a in cmd.args.iter().skip(1) {
                    v = self.eval_arg(dot, a)?;
                    if v.truth() == want {
                        return Ok(v);
                    }
                }
                if let Some(f) = final_ {
                    v = f;
                }
                return Ok(v);
            }
            "not" => {
                arity(self, 1, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                return Ok(V::Bool(!v[0].truth()));
            }
            "include" => {
                arity(self, 2, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let tname = self.string_param(&v[0], cmd, 1)?;
                return self.include(&tname, &v[1], cmd);
            }
            "tpl" => {
                arity(self, 2, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let text = self.string_param(&v[0], cmd, 1)?;
                return self.tpl(&text, &v[1], cmd);
            }
            "required" | "fail" => {
                let v = self.call_args(dot, &cmd.args, final_)?;
                let f = library().get(name).copied();
                return match f.map(|f| call_lib(f, &v)) {
                    Some(Ok(_)) => Ok(if name == "required" {
                        v[1].clone()
                    } else {
                        V::str("")
                    }),
                    Some(Err(e)) if e.0.starts_with("wrong number") => {
                        Err(self.fail(pos, &ident, e.0))
                    }
                    Some(Err(e)) if e.0.starts_with("wrong ") || e.0.starts_with("invalid ") => {
                        Err(self.arg_error(pos, name, cmd, &v, e.0))
                    }
                    Some(Err(e)) => Err(self.fail(
                        cmd.pos,
                        cmd,
                        format!("error calling {name}: {WARN_START}{}{WARN_END}", e.0),
                    )),
                    None => {
                        Err(self.fail(pos, &ident, format!("{name:?} is not a defined function")))
                    }
                };
            }
            "lookup" => {
                arity(self, 4, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let mut parts = Vec::with_capacity(4);
                for (i, a) in v.iter().enumerate() {
                    parts.push(self.string_param(a, cmd, i + 1)?);
                }
                // Offline Helm's lookup finds nothing and returns an empty map.
                let Some(table) = &self.eng.lookup else {
                    return Ok(V::map(Fields::default()));
                };
                let key = crate::render::LookupKey {
                    api_version: parts[0].clone(),
                    kind: parts[1].clone(),
                    namespace: parts[2].clone(),
                    name: parts[3].clone(),
                };
                return Ok(V::from_owned(table.answer(key)));
            }
            "call" => {
                arity(self, 1, true)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                if matches!(v[0], V::Nil | V::Missing) {
                    return Err(self.fail(cmd.pos, cmd, "error calling call: call of nil"));
                }
                return Err(self.fail(
                    cmd.pos,
                    cmd,
                    format!(
                        "error calling call: non-function {} of type {}",
                        cmd.args
                            .get(1)
                            .map_or_else(String::new, ToString::to_string),
                        type_of(&v[0])
                    ),
                ));
            }
            "dict" => {
                let v = self.call_args(dot, &cmd.args, final_)?;
                let mut m = Fields::default();
                let mut it = v.into_iter();
                while let Some(k) = it.next() {
                    let key = match &k {
                        V::Str(s) => s.to_string(),
                        other => funcs::args::strval(&other.to_value()),
                    };
                    let val = it.next().map_or_else(
                        || V::str(""),
                        |v| if let V::Missing = v { V::Nil } else { v },
                    );
                    m.insert(key, val);
                }
                return Ok(V::map(m));
            }
            "list" => {
                let v = self.call_args(dot, &cmd.args, final_)?;
                return Ok(V::List(Rc::new(
                    v.into_iter()
                        .map(|x| if let V::Missing = x { V::Nil } else { x })
                        .collect(),
                )));
            }
            "get" | "hasKey" | "unset" => {
                arity(self, 2, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                if let (V::Map(m), V::Str(k)) = (&v[0], &v[1]) {
                    return Ok(match name {
                        "get" => m.borrow().get(&**k).cloned().unwrap_or_else(|| V::str("")),
                        "hasKey" => V::Bool(m.borrow().contains_key(&**k)),
                        _ => {
                            m.borrow_mut().shift_remove(&**k);
                            v[0].clone()
                        }
                    });
                }
                return self.library_call(pos, name, cmd, v);
            }
            "set" => {
                arity(self, 3, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                if let (V::Map(m), V::Str(k)) = (&v[0], &v[1]) {
                    let val = if let V::Missing = v[2] {
                        V::Nil
                    } else {
                        v[2].clone()
                    };
                    m.borrow_mut().insert(k.to_string(), val);
                    return Ok(v[0].clone());
                }
                return self.library_call(pos, name, cmd, v);
            }
            "default" => {
                arity(self, 1, true)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                return Ok(match v.get(1) {
                    Some(given) if !is_empty(given) => given.clone(),
                    _ => v[0].clone(),
                });
            }
            "empty" => {
                arity(self, 1, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                return Ok(V::Bool(is_empty(&v[0])));
            }
            "ternary" => {
                arity(self, 3, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                if let V::Bool(b) = v[2] {
                    return Ok(if b { v[0].clone() } else { v[1].clone() });
                }
                return self.library_call(pos, name, cmd, v);
            }
            "first" | "last" => {
                arity(self, 1, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                if let V::List(l) = &v[0] {
                    let item = if name == "first" { l.first() } else { l.last() };
                    return Ok(item.cloned().unwrap_or(V::Nil));
                }
                return self.library_call(pos, name, cmd, v);
            }
            "index" => {
                arity(self, 1, true)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let mut item = v[0].clone();
                let mut native = true;
                for ix in &v[1..] {
                    item = match (&item, ix) {
                        (V::Map(m), V::Str(k)) => m.borrow().get(&**k).cloned().unwrap_or(V::Nil),
                        (V::List(l), V::Int(i) | V::Int64(i))
                            if *i >= 0 && (*i as usize) < l.len() =>
                        {
                            l[*i as usize].clone()
                        }
                        _ => {
                            native = false;
                            break;
                        }
                    };
                }
                if native {
                    return Ok(item);
                }
                return self.library_call(pos, name, cmd, v);
            }
            "len" => {
                arity(self, 1, false)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let n = match &v[0] {
                    V::Str(s) => s.len(),
                    V::List(l) => l.len(),
                    V::Map(m) => m.borrow().len(),
                    V::Obj(o) => match &**o {
                        Obj::Files(f) => f.names().count(),
                        Obj::ApiVersions(a) => a.len(),
                        Obj::KubeVersion(..) | Obj::Struct(..) => {
                            return Err(self.fail(
                                cmd.pos,
                                cmd,
                                format!("error calling len: len of type {}", type_of(&v[0])),
                            ));
                        }
                    },
                    V::Bytes(b) => b.len(),
                    V::Nil => {
                        return Err(self.fail(
                            cmd.pos,
                            cmd,
                            "error calling len: len of nil pointer",
                        ));
                    }
                    V::Missing => {
                        return Err(self.fail(
                            cmd.pos,
                            cmd,
                            "error calling len: reflect: call of reflect.Value.Type on zero Value",
                        ));
                    }
                    other => {
                        return Err(self.fail(
                            cmd.pos,
                            cmd,
                            format!("error calling len: len of type {}", type_of(other)),
                        ));
                    }
                };
                return Ok(V::Int(n as i64));
            }
            "merge" | "mergeOverwrite" | "mustMerge" | "mustMergeOverwrite" => {
                arity(self, 1, true)?;
                let v = self.call_args(dot, &cmd.args, final_)?;
                let out = self.library_call(pos, name, cmd, v.clone())?;
                // Go's mergo changes the destination map in place.
                if let (V::Map(dst), V::Map(res)) = (&v[0], &out) {
                    let merged = res.borrow().clone();
                    *dst.borrow_mut() = merged;
                    return Ok(v[0].clone());
                }
                return Ok(out);
            }
            _ => {}
        }
        let Some(_) = library().get(name) else {
            return Err(self.fail(pos, &ident, format!("{name:?} is not a defined function")));
        };
        let v = self.call_args(dot, &cmd.args, final_)?;
        self.library_call(pos, name, cmd, v)
    }

    fn library_call(&mut self, pos: usize, name: &str, cmd: &Command, args: Vec<V>) -> R<V> {
        let Some(f) = library().get(name).copied() else {
            return Err(self.fail(
                pos,
                &Ident(name),
                format!("{name:?} is not a defined function"),
            ));
        };
        match call_lib(f, &args) {
            Ok(v) if GO_INT_RESULTS.contains(&name) => Ok(V::from_owned(v).with_go_ints()),
            Ok(v) => Ok(V::from_owned(v)),
            Err(FuncError(msg)) => {
                if msg.starts_with("error calling ") {
                    Err(self.fail(cmd.pos, cmd, msg))
                } else {
                    Err(self.arg_error(pos, name, cmd, &args, msg))
                }
            }
        }
    }

    /// A library function refused an argument: reported at that argument, as Go does (a
    /// constant of the wrong kind is refused with Go's parse-time wording).
    fn arg_error(&self, pos: usize, name: &str, cmd: &Command, args: &[V], msg: String) -> Flow {
        let node_of = |i: usize| cmd.args.get(i + 1);
        if let Some(rest) = msg.strip_prefix("wrong type for value; expected ")
            && let Some((want, got)) = rest.split_once("; got ")
        {
            let matches = |v: &V| v.go_type() == got;
            if let Some(i) = args.iter().position(matches)
                && let Some(node) = node_of(i)
            {
                if let Some(lit) = literal_mismatch(node, want) {
                    return self.fail(node.pos(), node, lit);
                }
                return self.fail(node.pos(), node, msg);
            }
        }
        if let Some(want) = msg.strip_prefix("invalid value; expected ")
            && let Some(i) = args.iter().position(|v| matches!(v, V::Nil | V::Missing))
            && let Some(node) = node_of(i)
        {
            if let Some(lit) = literal_mismatch(node, want) {
                return self.fail(node.pos(), node, lit);
            }
            if matches!(args[i], V::Nil) {
                return self.fail(
                    node.pos(),
                    node,
                    format!("wrong type for value; expected {want}; got interface {{}}"),
                );
            }
            return self.fail(node.pos(), node, msg);
        }
        self.fail(pos, &Ident(name), msg)
    }

    fn string_param(&self, v: &V, cmd: &Command, i: usize) -> R<String> {
        let at = cmd.args.get(i).unwrap_or(&cmd.args[0]);
        if let Some(lit) = literal_mismatch(at, "string") {
            return Err(self.fail(at.pos(), at, lit));
        }
        match v {
            V::Str(s) => Ok(s.to_string()),
            V::Missing => Err(self.fail(at.pos(), at, "invalid value; expected string")),
            other => Err(self.fail(
                at.pos(),
                at,
                format!(
                    "wrong type for value; expected string; got {}",
                    type_of(other)
                ),
            )),
        }
    }

    fn include(&mut self, name: &str, data: &V, cmd: &Command) -> R<V> {
        let count = self.eng.included.borrow().get(name).copied();
        match count {
            Some(n) if n > INCLUDE_MAX => {
                return Err(self.fail(cmd.pos, cmd, format!(
                    "error calling include: rendering template has a nested reference name: {name}: unable to execute template"
                )));
            }
            Some(_) => {
                if let Some(n) = self.eng.included.borrow_mut().get_mut(name) {
                    *n += 1;
                }
            }
            None => {
                self.eng.included.borrow_mut().insert(name.to_owned(), 1);
            }
        }
        let result = match self.eng.lookup(&self.scope, name) {
            None if self.eng.foreign.contains(name) => Err(ExecError {
                text: format!(
                    "template: no template {name:?} associated with template {ROOT_NAME:?} ({name:?} is defined in a native pack/v1 chart of this tree, which Go templates cannot include)"
                ),
                origin: None,
                cause: None,
            }),
            None => Err(ExecError {
                text: format!(
                    "template: no template {name:?} associated with template {ROOT_NAME:?}"
                ),
                origin: None,
                cause: None,
            }),
            Some(tree) => {
                let mut out = String::new();
                self.eng
                    .run(tree, self.scope.clone(), data, self.depth + 1, &mut out)
                    .map(|()| out)
            }
        };
        if let Some(n) = self.eng.included.borrow_mut().get_mut(name) {
            *n -= 1;
        }
        match result {
            Ok(s) => Ok(V::Str(Rc::from(s))),
            Err(e) => {
                let msg = format!("error calling include: {}", e.text);
                let cause = if e.origin.is_none() && e.cause.is_none() {
                    Cause::Plain(e.text)
                } else {
                    Cause::Exec(e)
                };
                Err(self.fail_nested(cmd.pos, cmd, msg, cause))
            }
        }
    }

    fn tpl(&mut self, text: &str, data: &V, cmd: &Command) -> R<V> {
        let cached = self.eng.tpl_cache.borrow().get(text).cloned();
        let parsed = match cached {
            Some(p) => p,
            None => match parse(ROOT_NAME, text, &has_function) {
                Ok((root, defs)) => {
                    let mut map: HashMap<String, Rc<Tree>> = match &self.scope.overlay {
                        Some(o) => (**o).clone(),
                        None => HashMap::default(),
                    };
                    for d in defs {
                        map.insert(d.name.clone(), Rc::new(d));
                    }
                    let p = Rc::new(TplParsed {
                        root: Rc::new(root),
                        defines: Rc::new(map),
                    });
                    if self.scope.overlay.is_none() {
                        self.eng
                            .tpl_cache
                            .borrow_mut()
                            .insert(text.to_owned(), p.clone());
                    }
                    p
                }
                Err(e) => {
                    return Err(self.fail(
                        cmd.pos,
                        cmd,
                        format!("error calling tpl: cannot parse template {text:?}: {e}"),
                    ));
                }
            },
        };
        let scope = Scope {
            overlay: if parsed.defines.is_empty() {
                self.scope.overlay.clone()
            } else {
                Some(parsed.defines.clone())
            },
        };
        let mut out = String::new();
        match self
            .eng
            .run(parsed.root.clone(), scope, data, self.depth + 1, &mut out)
        {
            Ok(()) => Ok(V::Str(Rc::from(out.replace("<no value>", "")))),
            Err(e) => {
                let wrapped = format!(
                    "error during tpl function execution for {text:?}: {}",
                    e.text
                );
                let msg = format!("error calling tpl: {wrapped}");
                // tpl's own wrapping is not a template error, so Helm prints the chain as
                // Go wrote it.
                let err = ExecError {
                    text: wrapped,
                    origin: e.origin.clone(),
                    cause: Some(Box::new(Cause::Exec(e))),
                };
                Err(self.fail_nested(cmd.pos, cmd, msg, Cause::Exec(err)))
            }
        }
    }
}

/// The word Go evaluated last inside a parenthesised pipeline: where it reports an error in
/// the fields chained after it (`(print "a").x` fails "at <\"a\">").
fn last_evaluated(node: &Arg) -> Option<&Arg> {
    let Arg::Pipe(p) = node else {
        return None;
    };
    let cmd = p.cmds.last()?;
    let last = cmd.args.last()?;
    Some(last_evaluated(last).unwrap_or(last))
}

/// Calls a library function with Go's `int` and `[]byte` values known to it (see
/// [`funcs::args::with_go_types`]).
fn call_lib(f: Func, args: &[V]) -> funcs::FuncResult {
    let plain: Vec<Value> = args.iter().map(V::to_value).collect();
    let mut ints = Vec::new();
    for (a, p) in args.iter().zip(&plain) {
        if a.has_int() {
            super::value::mark(a, p, &mut ints);
        }
    }
    funcs::args::with_go_types(ints, || (f.call)(&plain))
}

/// Go's refusal of a constant argument of the wrong kind for a typed parameter.
fn literal_mismatch(node: &Arg, want: &str) -> Option<String> {
    let ok = match node {
        Arg::String(..) => want == "string",
        Arg::Number(_, n) => match want {
            "int" | "int64" => n.int.is_some(),
            "float64" => n.float.is_some(),
            _ => false,
        },
        Arg::Bool(..) => want == "bool",
        Arg::Nil(_) => return Some(format!("cannot assign nil to {want}")),
        _ => return None,
    };
    if ok {
        return None;
    }
    let kind = match want {
        "int" | "int64" => "integer",
        "float64" => "float",
        other => other,
    };
    Some(format!("expected {kind}; found {node}"))
}

/// A function's own error wrapped by Go's "error calling NAME: …" (Helm then prints Go's
/// text as it is).
fn plain_cause(msg: &str) -> Option<Box<Cause>> {
    let rest = msg.strip_prefix("error calling ")?;
    let (_, inner) = rest.split_once(": ")?;
    if inner.contains(WARN_START) {
        return None;
    }
    Some(Box::new(Cause::Plain(inner.to_owned())))
}

/// Sprig's `empty`.
fn is_empty(v: &V) -> bool {
    match v {
        V::Obj(o) => match &**o {
            Obj::Files(f) => f.names().next().is_none(),
            Obj::ApiVersions(a) => a.is_empty(),
            Obj::KubeVersion(..) | Obj::Struct(..) => false,
        },
        other => !other.truth(),
    }
}

fn print_v(v: &V) -> String {
    let mut s = String::new();
    v.print(&mut s);
    s
}

struct Ident<'a>(&'a str);

impl Display for Ident<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Where Go reports a range error: the last word it evaluated, the pipeline's value.
fn range_at(c: &Control) -> (usize, String) {
    match c.pipe.cmds.last().and_then(|cmd| cmd.args.first()) {
        Some(a) => (a.pos(), a.to_string()),
        None => (c.pos, String::new()),
    }
}

struct TemplateCtx<'a>(&'a str, Option<&'a Pipe>);

impl Display for TemplateCtx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(p) => write!(f, "{{{{template {:?} {p}}}}}", self.0),
            None => write!(f, "{{{{template {:?}}}}}", self.0),
        }
    }
}
