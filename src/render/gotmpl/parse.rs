//! The parser of Go's `text/template`: a file becomes its own tree plus the trees of the
//! `define`/`block` actions in it, with Go's checks (functions exist, variables are
//! declared, `break` is inside `range`) and Go's error messages.

use super::lex::{Kind, Token, lex};
use std::fmt::{self, Write as _};
use std::sync::Arc;

/// A parsed template: a file's top level or one `define`.
#[derive(Debug)]
pub struct Tree {
    /// The name it is executed under (the file path, or the define name).
    pub name: String,
    /// The file it was parsed from (Go's `ParseName`), for error locations.
    pub parse_name: Arc<str>,
    /// That file's source, to turn byte offsets into line and column.
    pub text: Arc<str>,
    /// Its nodes.
    pub root: Box<[Node]>,
}

impl Tree {
    /// The tree under another name and file (a tree parsed ahead under a placeholder).
    pub fn renamed(mut self, name: &str, parse_name: &Arc<str>) -> Tree {
        self.name = name.to_owned();
        self.parse_name = parse_name.clone();
        self
    }

    /// True when the tree holds only whitespace text and comments (Go does not let such a
    /// tree replace an existing template of the same name).
    pub fn is_empty(&self) -> bool {
        self.root
            .iter()
            .all(|n| matches!(n, Node::Text(a, b) if self.text[*a..*b].trim().is_empty()))
    }

    /// Go's `file:line:col` of a byte offset (the column is the 0-based byte offset in the
    /// line, as Go prints it).
    pub fn location(&self, pos: usize) -> (usize, usize) {
        let before = &self.text[..pos.min(self.text.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        (line, col)
    }
}

/// Names in a tree: fields of a chain, declared variables. Boxed slices of boxed strings,
/// allocated at their exact sizes: a chart's trees hold tens of thousands of them, and every
/// page they take is a page fault.
pub type Names = Box<[Box<str>]>;

/// A node of a template's body.
#[derive(Debug)]
pub enum Node {
    /// Plain text: a byte range of the tree's source.
    Text(usize, usize),
    /// `{{ pipeline }}`.
    Action(Pipe),
    /// `{{ if }}`, `{{ with }}`, `{{ range }}`.
    Control(Box<Control>),
    /// `{{ template "name" pipeline }}`.
    Template {
        /// Offset.
        pos: usize,
        /// The template's name.
        name: Box<str>,
        /// Its data, when given.
        pipe: Option<Pipe>,
    },
    /// `{{ break }}`.
    Break(usize),
    /// `{{ continue }}`.
    Continue(usize),
}

/// Which control action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// `if`.
    If,
    /// `with`.
    With,
    /// `range`.
    Range,
}

/// An `if`, `with` or `range` with its branches.
#[derive(Debug)]
pub struct Control {
    /// Which one.
    pub kind: ControlKind,
    /// Offset of the action.
    pub pos: usize,
    /// Its pipeline.
    pub pipe: Pipe,
    /// The body.
    pub list: Box<[Node]>,
    /// The `else` branch.
    pub else_list: Option<Box<[Node]>>,
}

/// A pipeline: optional variable declarations and commands joined by `|`.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// Offset.
    pub pos: usize,
    /// Declared or assigned variables (`$x`).
    pub decl: Names,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// The commands.
    pub cmds: Box<[Command]>,
}

/// A command: a function or value and its arguments.
#[derive(Debug, Clone)]
pub struct Command {
    /// Offset.
    pub pos: usize,
    /// The words; the first is the function or value.
    pub args: Box<[Arg]>,
}

/// A number constant, with what Go's parser could make of it.
#[derive(Debug, Clone)]
pub struct Number {
    /// The source text.
    pub text: String,
    /// As an integer, when it is one.
    pub int: Option<i64>,
    /// As a float, when it can be one.
    pub float: Option<f64>,
    /// Written as a character constant.
    pub is_char: bool,
}

/// A word of a command.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.a.b`.
    Field(usize, Names),
    /// `$x.a.b` (the first element is the variable name with its `$`).
    Variable(usize, Names),
    /// `(pipeline).a.b`.
    Chain(usize, Box<Arg>, Names),
    /// A function name.
    Identifier(usize, Box<str>),
    /// `.`.
    Dot(usize),
    /// `nil`.
    Nil(usize),
    /// `true`/`false`.
    Bool(usize, bool),
    /// A number or character constant.
    Number(usize, Arc<Number>),
    /// A string constant: the quoted source and its value.
    String(usize, Box<str>, Box<str>),
    /// A parenthesised pipeline.
    Pipe(Box<Pipe>),
}

impl Arg {
    /// Its offset.
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field(p, _)
            | Arg::Variable(p, _)
            | Arg::Chain(p, _, _)
            | Arg::Identifier(p, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::String(p, _, _) => *p,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field(_, ids) => {
                for id in ids {
                    write!(f, ".{id}")?;
                }
                Ok(())
            }
            Arg::Variable(_, ids) => f.write_str(&ids.join(".")),
            Arg::Chain(_, node, fields) => {
                if let Arg::Pipe(_) = **node {
                    write!(f, "({node})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for id in fields {
                    write!(f, ".{id}")?;
                }
                Ok(())
            }
            Arg::Identifier(_, n) => f.write_str(n),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::String(_, q, _) => f.write_str(q),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A template that does not parse: Go's message and the line it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file.
    pub parse_name: String,
    /// 1-based line.
    pub line: usize,
    /// The message without location.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template: {}:{}: {}",
            self.parse_name, self.line, self.message
        )
    }
}

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    toks: Vec<Token>,
    /// The source the tokens point into, and the lexer's error message.
    src: &'a str,
    lex_error: String,
    i: usize,
    parse_name: Arc<str>,
    text: Arc<str>,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    has_function: &'a dyn Fn(&str) -> bool,
    defines: Vec<Tree>,
    /// The line of the token most recently read (Go reports errors there).
    line: usize,
}

/// Parses a file: its own tree (named `name`) and the trees it defines, in source order.
pub fn parse(
    name: &str,
    text: &str,
    has_function: &dyn Fn(&str) -> bool,
) -> PResult<(Tree, Vec<Tree>)> {
    parse_shared(name, Arc::from(text), has_function)
}

/// [`parse`] of a source already shared, which the trees keep without a copy.
pub fn parse_shared(
    name: &str,
    text: Arc<str>,
    has_function: &dyn Fn(&str) -> bool,
) -> PResult<(Tree, Vec<Tree>)> {
    let parse_name: Arc<str> = Arc::from(name);
    let shared = text.clone();
    let source: &str = &shared;
    let lexed = lex(source);
    let mut p = Parser {
        toks: lexed.tokens,
        src: source,
        lex_error: lexed.error,
        i: 0,
        parse_name: parse_name.clone(),
        text: text.clone(),
        vars: vec!["$".into()],
        range_depth: 0,
        action_line: 0,
        has_function,
        defines: Vec::new(),
        line: 1,
    };
    let root = p.parse_top()?;
    super::lex::recycle(std::mem::take(&mut p.toks));
    Ok((
        Tree {
            name: name.to_owned(),
            parse_name,
            text,
            root: root.into_boxed_slice(),
        },
        p.defines,
    ))
}

impl<'a> Parser<'a> {
    fn err<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            parse_name: self.parse_name.to_string(),
            line: self.line,
            message: message.into(),
        })
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.i.min(self.toks.len() - 1)];
        if self.i < self.toks.len() {
            self.i += 1;
        }
        self.line = t.line();
        t
    }

    /// A token's text.
    fn s(&self, t: &Token) -> &'a str {
        t.text(self.src)
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let save = self.i;
        let t = self.next_non_space();
        // Go consumes the spaces and backs up only over the token.
        self.i = save;
        while self.peek().kind == Kind::Space {
            self.i += 1;
        }
        t
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn unexpected<T>(&self, t: &Token, context: &str) -> PResult<T> {
        if t.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != t.line() {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if self.lex_error.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            let _ = context;
            return self.err(format!("{}{extra}", self.lex_error));
        }
        self.err(format!(
            "unexpected {} in {context}",
            t.describe(self.src, &self.lex_error)
        ))
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            let n = self.text_or_action()?;
            match n {
                Item::End => return self.err("unexpected {{end}}"),
                Item::Else => return self.err("unexpected {{else}}"),
                Item::Node(n) => {
                    if let Some(n) = n {
                        root.push(n);
                    }
                }
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let name_tok = self.next_non_space();
        let name = match name_tok.kind {
            Kind::String | Kind::RawString => {
                unquote(self.s(&name_tok)).or_else(|e| self.err(e))?
            }
            _ => return self.unexpected(&name_tok, context),
        };
        self.expect(Kind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Item::End) {
            return self.err(format!("unexpected {} in {context}", "{{else}}"));
        }
        self.add_define(Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: list,
        })
    }

    /// Go's rule within one parse: a non-empty template may not be defined twice; an empty
    /// one neither replaces nor conflicts with a non-empty one.
    fn add_define(&mut self, tree: Tree) -> PResult<()> {
        if let Some(i) = self.defines.iter().position(|d| d.name == tree.name) {
            if self.defines[i].is_empty() {
                self.defines[i] = tree;
            } else if !tree.is_empty() {
                return self.err(format!(
                    "template: multiple definition of template {:?}",
                    tree.name
                ));
            }
            return Ok(());
        }
        self.defines.push(tree);
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(Box<[Node]>, Item)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(Some(n)) => list.push(n),
                Item::Node(None) => {}
                other => return Ok((list.into_boxed_slice(), other)),
            }
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Some(Node::Text(
                t.pos(),
                t.pos() + self.s(&t).len(),
            )))),
            Kind::LeftDelim => {
                self.action_line = t.line();
                let r = self.action();
                self.action_line = 0;
                r
            }
            Kind::Comment => Ok(Item::Node(None)),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control(t.pos()),
            Kind::Break => return self.break_control(t.pos(), "break"),
            Kind::Continue => return self.break_control(t.pos(), "continue"),
            Kind::Else => return self.else_control(),
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => return self.control(ControlKind::If, t.pos()),
            Kind::Range => return self.control(ControlKind::Range, t.pos()),
            Kind::Template => return self.template_control(t.pos()),
            Kind::With => return self.control(ControlKind::With, t.pos()),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Some(Node::Action(pipe))))
    }

    fn break_control(&mut self, pos: usize, word: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.kind != Kind::RightDelim {
            return self.unexpected(&t, &format!("{{{{{word}}}}}"));
        }
        if self.range_depth == 0 {
            return self.err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
        }
        Ok(Item::Node(Some(if word == "break" {
            Node::Break(pos)
        } else {
            Node::Continue(pos)
        })))
    }

    fn else_control(&mut self) -> PResult<Item> {
        let peek = self.peek_non_space();
        if matches!(peek.kind, Kind::If | Kind::With) {
            return Ok(Item::Else);
        }
        let t = self.next_non_space();
        if t.kind != Kind::RightDelim {
            return self.unexpected(&t, "else");
        }
        Ok(Item::Else)
    }

    fn control(&mut self, kind: ControlKind, pos: usize) -> PResult<Item> {
        let c = self.parse_control(kind, pos)?;
        Ok(Item::Node(Some(Node::Control(Box::new(c)))))
    }

    fn parse_control(&mut self, kind: ControlKind, pos: usize) -> PResult<Control> {
        let context = match kind {
            ControlKind::If => "if",
            ControlKind::With => "with",
            ControlKind::Range => "range",
        };
        let vars_len = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if kind == ControlKind::Range {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if kind == ControlKind::Range {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Item::Else = next {
            let peek = self.peek().kind;
            if kind == ControlKind::If && peek == Kind::If {
                let t = self.next();
                let inner = self.parse_control(ControlKind::If, t.pos())?;
                else_list = Some(Box::new([Node::Control(Box::new(inner))]) as Box<[Node]>);
            } else if kind == ControlKind::With && peek == Kind::With {
                let t = self.next();
                let inner = self.parse_control(ControlKind::With, t.pos())?;
                else_list = Some(Box::new([Node::Control(Box::new(inner))]) as Box<[Node]>);
            } else {
                let (l, n) = self.item_list()?;
                if !matches!(n, Item::End) {
                    return self.err("expected end; found {{else}}");
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(vars_len);
        Ok(Control {
            kind,
            pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, context: &str) -> PResult<(String, usize)> {
        let t = self.next_non_space();
        match t.kind {
            Kind::String | Kind::RawString => {
                Ok((unquote(self.s(&t)).or_else(|e| self.err(e))?, t.pos()))
            }
            _ => self.unexpected(&t, context),
        }
    }

    fn template_control(&mut self, _pos: usize) -> PResult<Item> {
        let context = "template clause";
        let (name, pos) = self.template_name(context)?;
        let t = self.next_non_space();
        let pipe = if t.kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Item::Node(Some(Node::Template {
            pos,
            name: name.into(),
            pipe,
        })))
    }

    fn block_control(&mut self, _pos: usize) -> PResult<Item> {
        let context = "block clause";
        let (name, pos) = self.template_name(context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Item::End) {
            return self.err("unexpected {{else}} in block clause");
        }
        self.add_define(Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root: list,
        })?;
        Ok(Item::Node(Some(Node::Template {
            pos,
            name: name.into(),
            pipe: Some(pipe),
        })))
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos();
        let mut decl: Vec<Box<str>> = Vec::new();
        let mut is_assign = false;
        let mut cmds = Vec::new();
        // Declarations.
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.i;
            self.next();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    decl.push(self.s(&v).into());
                    self.vars.push(self.s(&v).to_owned());
                }
                Kind::Char if self.s(&next) == "," => {
                    self.next_non_space();
                    decl.push(self.s(&v).into());
                    self.vars.push(self.s(&v).to_owned());
                    if context == "range" && decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => {
                                continue 'decls;
                            }
                            _ => return self.err("range can only initialize variables"),
                        }
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                // Not a declaration: put the variable back.
                _ => self.i = save,
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                let pipe = Pipe {
                    pos,
                    decl: decl.into_boxed_slice(),
                    is_assign,
                    cmds: cmds.into_boxed_slice(),
                };
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    cmds.push(c);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(..) | Arg::String(..)
            ) {
                return self.err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos();
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.err("empty command");
        }
        Ok(Command {
            pos,
            args: args.into_boxed_slice(),
        })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos();
        let mut fields: Vec<Box<str>> = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(self.s(&t)[1..].into());
        }
        let joined = |ids: Names, fields: Vec<Box<str>>| -> Names {
            let mut all = ids.into_vec();
            all.extend(fields);
            all.into_boxed_slice()
        };
        Ok(Some(match node {
            // Go gives the combined node the position of the chained part.
            Arg::Field(_, ids) => Arg::Field(chain_pos, joined(ids, fields)),
            Arg::Variable(_, ids) => Arg::Variable(chain_pos, joined(ids, fields)),
            Arg::Bool(..) | Arg::String(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return self.err(format!("unexpected . after term {:?}", node.to_string()));
            }
            other => Arg::Chain(chain_pos, Box::new(other), fields.into_boxed_slice()),
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.kind {
            Kind::Identifier => {
                if !(self.has_function)(self.s(&t)) {
                    return self.err(format!("function {:?} not defined", self.s(&t)));
                }
                Arg::Identifier(t.pos(), self.s(&t).into())
            }
            Kind::Dot => Arg::Dot(t.pos()),
            Kind::Nil => Arg::Nil(t.pos()),
            Kind::Variable => {
                let name = self.s(&t).split('.').next().unwrap_or("").to_owned();
                if !self.vars.contains(&name) {
                    return self.err(format!("undefined variable {name:?}"));
                }
                Arg::Variable(t.pos(), Box::new([self.s(&t).into()]))
            }
            Kind::Field => Arg::Field(t.pos(), Box::new([self.s(&t)[1..].into()])),
            Kind::Bool => Arg::Bool(t.pos(), self.s(&t) == "true"),
            Kind::CharConstant | Kind::Number | Kind::Complex => {
                let n = number(self.s(&t), t.kind).or_else(|e| self.err(e))?;
                Arg::Number(t.pos(), Arc::new(n))
            }
            Kind::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                Arg::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let v = unquote(self.s(&t)).or_else(|e| self.err(e))?;
                Arg::String(t.pos(), self.s(&t).into(), v.into())
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

enum Item {
    Node(Option<Node>),
    End,
    Else,
}

/// Go's `strconv.Unquote` for the string forms templates use.
pub fn unquote(s: &str) -> Result<String, String> {
    if let Some(raw) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Ok(raw.replace('\r', ""));
    }
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| "invalid syntax".to_owned())?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("invalid syntax")?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' => {
                let h: String = (0..2).filter_map(|_| chars.next()).collect();
                let b = u8::from_str_radix(&h, 16).map_err(|_| "invalid syntax")?;
                // Go strings are bytes; pack's are UTF-8, so a lone high byte becomes U+FFFD.
                out.push(if b < 0x80 { b as char } else { '\u{fffd}' });
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let h: String = (0..n).filter_map(|_| chars.next()).collect();
                let cp = u32::from_str_radix(&h, 16).map_err(|_| "invalid syntax")?;
                out.push(char::from_u32(cp).ok_or("invalid syntax")?);
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or("invalid syntax")?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("invalid syntax".into());
                }
                out.push(if v < 0x80 {
                    v as u8 as char
                } else {
                    '\u{fffd}'
                });
            }
            _ => return Err("invalid syntax".into()),
        }
    }
    Ok(out)
}

/// Go's `parse.newNumber`.
fn number(text: &str, kind: Kind) -> Result<Number, String> {
    if kind == Kind::CharConstant {
        let inner = &text[1..text.len() - 1];
        let c = if let Some(esc) = inner.strip_prefix('\\') {
            match esc {
                "'" => '\'',
                _ => unquote(&format!("\"\\{esc}\""))
                    .ok()
                    .and_then(|s| {
                        let mut it = s.chars();
                        let c = it.next();
                        if it.next().is_some() { None } else { c }
                    })
                    .ok_or_else(|| format!("malformed character constant: {text}"))?,
            }
        } else {
            let mut it = inner.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => c,
                _ => return Err(format!("malformed character constant: {text}")),
            }
        };
        return Ok(Number {
            text: text.to_owned(),
            int: Some(c as i64),
            float: Some(c as u32 as f64),
            is_char: true,
        });
    }
    if kind == Kind::Complex || text.ends_with('i') {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    let int = parse_int(text);
    let mut n = Number {
        text: text.to_owned(),
        int,
        float: int.map(|i| i as f64),
        is_char: false,
    };
    if n.int.is_none() {
        if let Some(u) = parse_uint(text) {
            n.float = Some(u as f64);
        } else if let Some(f) = parse_float(text) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {text:?}"));
            }
            n.float = Some(f);
            if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 {
                n.int = Some(f as i64);
            }
        }
    }
    if n.int.is_none() && n.float.is_none() {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(n)
}

fn split_base(text: &str) -> (bool, u32, &str) {
    let (neg, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = rest.get(..2).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("0x") => (neg, 16, &rest[2..]),
        Some("0o") => (neg, 8, &rest[2..]),
        Some("0b") => (neg, 2, &rest[2..]),
        _ if rest.len() > 1 && rest.starts_with('0') => (neg, 8, &rest[1..]),
        _ => (neg, 10, rest),
    }
}

fn digits_ok(digits: &str, prefixed: bool) -> Option<String> {
    // Underscores only between digits (or after a base prefix).
    if digits.is_empty() || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    if digits.starts_with('_') && !prefixed {
        return None;
    }
    Some(digits.replace('_', ""))
}

fn parse_uint(text: &str) -> Option<u64> {
    let (neg, base, digits) = split_base(text);
    if neg || text.starts_with('+') {
        return None;
    }
    let clean = digits_ok(digits, base != 10)?;
    if clean.is_empty() {
        return None;
    }
    u64::from_str_radix(&clean, base).ok()
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, base, digits) = split_base(text);
    let clean = digits_ok(digits, base != 10)?;
    if clean.is_empty() {
        return None;
    }
    let u = u64::from_str_radix(&clean, base).ok()?;
    if neg {
        if u <= 1u64 << 63 {
            Some((-(u as i128)) as i64)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

fn parse_float(text: &str) -> Option<f64> {
    let (neg, t) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let v = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        parse_hex_float(hex)?
    } else {
        let clean = digits_ok(t, false)?;
        if !clean.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        clean.parse::<f64>().ok()?
    };
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// A hexadecimal float without its `0x`: `1p60`, `1.8p1`, `f.fp-2` (the exponent is
/// required, as in Go).
fn parse_hex_float(hex: &str) -> Option<f64> {
    let (mantissa, exp) = hex.split_once(['p', 'P'])?;
    let mantissa = digits_ok(mantissa, true)?;
    let exp: i32 = digits_ok(exp.trim_start_matches('+'), false)?
        .parse()
        .ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<(Tree, Vec<Tree>), ParseError> {
        parse("t", s, &|n| matches!(n, "printf" | "include" | "len"))
    }

    #[test]
    fn parses_controls_and_defines() {
        let (t, d) =
            p("{{ define \"a\" }}x{{ end }}{{ if .x }}a{{ else if .y }}b{{ else }}c{{ end }}")
                .expect("parses");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].name, "a");
        assert_eq!(t.root.len(), 1);
    }

    #[test]
    fn errors_like_go() {
        let e = p("a\n{{ nope 1 }}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: t:2: function \"nope\" not defined"
        );
        let e = p("{{ $x }}").unwrap_err();
        assert_eq!(e.message, "undefined variable \"$x\"");
        let e = p("{{ end }}").unwrap_err();
        assert_eq!(e.message, "unexpected {{end}}");
        let e = p("{{ break }}").unwrap_err();
        assert_eq!(e.message, "{{break}} outside {{range}}");
    }

    #[test]
    fn pipeline_strings() {
        let (t, _) = p("{{ $x := printf \"%d\" (len .a) | printf \"%s\" }}").expect("parses");
        let Node::Action(pipe) = &t.root[0] else {
            panic!("not an action")
        };
        assert_eq!(
            pipe.to_string(),
            "$x := printf \"%d\" (len .a) | printf \"%s\""
        );
    }

    #[test]
    fn numbers() {
        let n = number("0x1F", Kind::Number).expect("hex");
        assert_eq!(n.int, Some(31));
        let n = number("1_000", Kind::Number).expect("underscore");
        assert_eq!(n.int, Some(1000));
        let n = number("017", Kind::Number).expect("octal");
        assert_eq!(n.int, Some(15));
        let n = number("1.5", Kind::Number).expect("float");
        assert_eq!(n.float, Some(1.5));
        assert_eq!(n.int, None);
        let n = number("0x1p60", Kind::Number).expect("hex float");
        assert_eq!(n.float, Some(2f64.powi(60)));
        let n = number("'a'", Kind::CharConstant).expect("char");
        assert_eq!(n.int, Some(97));
    }
}
