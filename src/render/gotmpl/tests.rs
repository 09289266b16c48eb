//! Properties of the Go-template engine on arbitrary input: parsing and running any text
//! never panics and always stops (a seeded random generator over template fragments, so
//! every run checks the same inputs and a failure names its seed).

use super::exec::{Engine, Set, has_function};
use super::parse::parse;
use super::value::V;
use crate::value::Value;

/// Fragments that exercise the lexer, the parser and the evaluator together.
const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{{- ",
    " -}}",
    " ",
    "\n",
    "\t",
    "text",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "nil",
    "true",
    ".",
    ".Values",
    ".a",
    ".b.c",
    "$",
    "$x",
    "$x :=",
    "$x =",
    "$i, $v :=",
    "(",
    ")",
    "|",
    ",",
    "\"s\"",
    "\"",
    "`raw`",
    "`",
    "'c'",
    "'",
    "1",
    "-2",
    "0x1F",
    "1.5e3",
    "1e400",
    "0x1p4",
    "/*",
    "*/",
    "{{/* c */}}",
    "len",
    "index",
    "printf \"%v\"",
    "print",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "include \"d\" .",
    "tpl \"{{ . }}\" .",
    "default 1",
    "dict \"k\" 1",
    "list 1 2",
    "toYaml",
    "required \"m\"",
    "fail \"x\"",
    "{{ define \"d\" }}D{{ end }}",
    "range 3",
    "range $i, $v :=",
    "é",
    "\u{2028}",
    ":=",
    "=",
    "}",
    "{",
];

/// xorshift64*: small, seeded, good enough to spread choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn data() -> V {
    let mut values = crate::value::Map::default();
    values.insert("a".into(), Value::Int(1));
    values.insert(
        "b".into(),
        Value::Map(
            [("c".to_owned(), Value::List(vec![Value::Int(1)]))]
                .into_iter()
                .collect(),
        ),
    );
    let mut top = crate::value::Map::default();
    top.insert("Values".into(), Value::Map(values));
    V::from_owned(Value::Map(top))
}

fn run(text: &str) {
    let Ok((tree, defines)) = parse("t", text, &has_function) else {
        return;
    };
    let mut set = Set::default();
    set.add(tree);
    for d in defines {
        set.add(d);
    }
    let engine = Engine::new(set, false).with_max_steps(20_000);
    let _ = engine.execute("t", &data());
}

#[test]
fn random_templates_never_panic_and_always_stop() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..100_000 {
        let n = 1 + rng.below(24);
        let text: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        run(&text);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    let alphabet: Vec<char> = "{}-$.()|\"'`/* \n\tabc123xé:=,".chars().collect();
    for _ in 0..100_000 {
        let n = rng.below(40);
        let text: String = (0..n)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        run(&text);
    }
}

#[test]
fn runaway_templates_stop_with_a_clear_error() {
    let (tree, defines) = parse(
        "t",
        "{{ define \"x\" }}{{ template \"x\" . }}{{ end }}{{ range 100000000 }}{{ end }}",
        &has_function,
    )
    .expect("parses");
    let mut set = Set::default();
    set.add(tree);
    for d in defines {
        set.add(d);
    }
    let engine = Engine::new(set, false).with_max_steps(1_000);
    let err = engine.execute("t", &data()).expect_err("stops");
    assert!(err.text.contains("template ran too long"), "{}", err.text);
}
