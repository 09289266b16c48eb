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

#[test]
fn trees_parsed_ahead_serve_only_the_text_they_were_parsed_from() {
    use crate::chart::ChartFile;
    use std::sync::{Arc, Mutex};
    let file = |name: &str, text: &str| ChartFile {
        name: name.to_owned(),
        data: text.as_bytes().to_vec(),
    };
    let chart = crate::chart::from_files(
        vec![
            file("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"),
            file("templates/a.yaml", "a: {{ .Values.x }}\n"),
        ],
        "test",
    )
    .expect("a chart");
    let values = crate::value::Map::default();
    let render = |preparsed: super::Preparsed| {
        let preparsed = Arc::new(Mutex::new(preparsed));
        let opts = crate::render::RenderOptions {
            preparsed: Some(preparsed.clone()),
            ..Default::default()
        };
        let caps = crate::k8s::Capabilities::default();
        let out = crate::render::render(&chart, &values, &Default::default(), &caps, &opts)
            .expect("renders");
        let left = preparsed.lock().expect("not poisoned").trees.len();
        (out.files[0].content.clone(), left)
    };
    // Parsed ahead from the chart's own file: taken.
    let queue = super::ParseQueue::new(super::sources(&chart));
    queue.work();
    let (out, left) = render(queue.take());
    assert_eq!(out, "a: \n");
    assert_eq!(left, 0, "the tree parsed ahead was taken");
    // A tree filed under the file's key but parsed from another text of the same length
    // (as if the file's memory had been reused) is not used.
    let template = &chart.templates[0];
    let other = "b: {{ .Values.y }}\n";
    assert_eq!(other.len(), template.data.len());
    let parsed = super::parse::parse(super::AHEAD_NAME, other, &has_function).expect("parses");
    let mut stale = super::Preparsed::default();
    stale.trees.insert(super::file_key(template), parsed);
    let (out, _) = render(stale);
    assert_eq!(out, "a: \n", "rendered from the file's own text");
}
