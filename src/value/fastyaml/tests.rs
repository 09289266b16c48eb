use super::*;
use crate::value::yaml::{full_parse_multi, same};

/// Reads `src` with both readers and checks they agree; returns whether the fast one read it.
fn agree(src: &str, flavor: Flavor) -> bool {
    match read_documents(src, flavor) {
        Err(GiveUp) => false,
        Ok(fast) => {
            let full = full_parse_multi(src, flavor).unwrap_or_else(|e| {
                panic!(
                    "{flavor:?} {src:?}: the fast reader accepted what the full parser rejects: {e}"
                )
            });
            let fast: Vec<&Value> = fast.iter().filter(|d| !d.is_null()).collect();
            let full: Vec<&Value> = full.iter().filter(|d| !d.is_null()).collect();
            assert!(
                fast.len() == full.len() && fast.iter().zip(&full).all(|(a, b)| same(a, b)),
                "{flavor:?} {src:?}:\nfast {fast:?}\nfull {full:?}"
            );
            true
        }
    }
}

const BOTH: [Flavor; 2] = [Flavor::Core12, Flavor::Yaml11];

#[test]
fn block_yaml_is_read_here_and_agrees() {
    let docs = [
        "a: 1\nb: two\nc:\n  d: [1, 2, {e: f}]\n  g: {}\n  h: []\n",
        "# comment\n\nkey: value # trailing\nother:   'single ''q'''\nthird: \"d\\tq\\u00e9\\x41\"\n",
        "list:\n- a\n- b: 1\n  c: 2\n-\n- - x\n  - y\nnext: 3\n",
        "list:\n  - name: a\n    items:\n    - 1\n    - 2\n  - name: b\n",
        "empty:\nnull1: ~\nnull2: null\nkeyed: x\n",
        "script: |\n  line one\n\n    indented\n  last\nstrip: |-\n  a\n  b\n\n\nkeep: |+\n  a\n\n\nafter: 1\n",
        "folded: >\n  one\n  two\n\n  three\nfs: >-\n  x\n  y\n",
        "url: http://example.com:8080/path#frag\nhash: a#b\n",
        "x: |\n  a\n    \n  b\n",
        "desc: a plain scalar that\n  goes on over\n\n  several lines\nnext: 1\n",
        "- a plain item\n  continued\n- 'single\n  folded'\n- \"double\n\n  folded \\\n  escaped\"\n",
        "---\na: 1\n---\n# only a comment\n---\nb: 2\n",
        "  indented: root\n  second: 2\n",
        "k: \"a\" # c\n'q k': 1\n\"d k\": 2\n",
        "x: |\n  no final newline",
        "x: |\n  keep at eof\n",
        "nested:\n  deeper:\n    deepest: [a, 'b', \"c\", 1.5, true, ~]\n",
        "flow: {a: 1, 'b': [x, y], \"c\": {}}\n",
        "just a scalar\n",
        "\"a quoted root\"\n",
        "- 1\n- 2\n",
        "a: - not a list\n",
    ];
    for doc in docs {
        for flavor in BOTH {
            let read_here = agree(doc, flavor);
            if !doc.starts_with("a: - ") {
                assert!(
                    read_here,
                    "{flavor:?}: {doc:?} should be read by the fast reader"
                );
            }
        }
    }
}

#[test]
fn scalars_resolve_as_the_full_parser_resolves_them() {
    let mut spellings: Vec<String> = [
        "0",
        "-0",
        "+0",
        "00",
        "07",
        "08",
        "0755",
        "-0755",
        "+0755",
        "0o17",
        "0O17",
        "0o",
        "0x",
        "0x1F",
        "0X1f",
        "0xg",
        "0b101",
        "0b2",
        "0x_1F",
        "0o_7",
        "1_000",
        "1__0",
        "_1",
        "1_",
        "-1_0",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "1.5",
        ".5",
        "5.",
        "-.5",
        "+1.5",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "1.5e3",
        "1e999",
        "-1e999",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        ".INF",
        ".nan",
        ".NaN",
        "-.nan",
        "inf",
        "nan",
        "infinity",
        "-inf",
        "1.2.3",
        "1.0",
        "10Gi",
        "100m",
        "3d",
        "1:30",
        "12:30:00",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "true",
        "True",
        "TRUE",
        "tRue",
        "false",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "y",
        "Y",
        "n",
        "N",
        "null",
        "Null",
        "NULL",
        "nUll",
        "~",
        "-",
        "--",
        "+",
        ".",
        "-a",
        "+a",
        "v1.2",
        "é",
        "0.0.0.0",
        "1,000",
        "0x1F.5",
        "1e",
        "e1",
        "-e1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in spellings.clone() {
        spellings.push(format!("'{s}'"));
    }
    for s in &spellings {
        // `a: -` starts a sequence where none may start: the full parser reports it.
        let read_here = s != "-";
        for flavor in BOTH {
            assert_eq!(agree(&format!("a: {s}\n"), flavor), read_here, "{s}");
            // (`- -` is a sequence in a sequence, which is read here.)
            assert!(agree(&format!("- {s}\n"), flavor), "{s}");
            if !matches!(s.as_str(), "~" | "null" | "Null" | "NULL") {
                assert!(agree(&format!("{s}: v\n"), flavor), "key {s}");
            }
        }
    }
}

#[test]
fn documents_outside_the_subset_go_to_the_full_parser() {
    let docs = [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "a:\tb\n",
        "\ta: 1\n",
        "a: [1,\n  2]\n",
        "a: b: c\n",
        "a: \"unterminated\n",
        "a: |2\n   x\n",
        "? complex\n: key\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n...\n",
        "a: 1\r\nb: 2\r\n",
        "\u{feff}a: 1\n",
        "a: \"\\q\"\n",
        "a: {b}\n",
        "a: [b: c]\n",
        "port: :8080x\n",
    ];
    for doc in docs {
        for flavor in BOTH {
            assert!(
                read_documents(doc, flavor).is_err(),
                "{flavor:?}: {doc:?} should be left to the full parser"
            );
        }
    }
}

#[test]
fn nesting_beyond_the_limit_goes_to_the_full_parser() {
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(read_documents(&deep, Flavor::Yaml11), Err(GiveUp));
    let mut block = String::new();
    for i in 0..MAX_DEPTH + 1 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    assert_eq!(read_documents(&block, Flavor::Yaml11), Err(GiveUp));
}

/// A small deterministic generator (xorshift) so the random documents are the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Emits a random block node at `indent` (the value of a key, or an item) into `out`,
/// starting on the current line.
fn random_node(rng: &mut Rng, out: &mut String, indent: usize, depth: usize) {
    const SCALARS: &[&str] = &[
        "v",
        "1",
        "0x1F",
        "017",
        "1_0",
        "1.5",
        "1e3",
        "true",
        "yes",
        "No",
        "~",
        "null",
        "",
        "'s'",
        "\"d\\n\"",
        "a b",
        "a # c",
        "[1, b]",
        "{k: v, 'q': [x]}",
        "[]",
        "{}",
        "a:b",
        "http://h:1",
        "'it''s'",
        "\"\\u00e9\\t\"",
        "-x",
        "9223372036854775808",
        ".inf",
    ];
    const TEXT: &[&str] = &[
        "word",
        "two words",
        "a: b",
        "# not a comment",
        "  more",
        "-",
        "x",
    ];
    let pad = |n: usize| " ".repeat(n);
    match if depth > 3 { 0 } else { rng.next() % 7 } {
        0 | 1 => {
            out.push(' ');
            out.push_str(rng.pick(SCALARS));
            out.push('\n');
        }
        2 => {
            // A block mapping below, sometimes with a comment line in between.
            out.push('\n');
            let child = indent + 1 + (rng.next() % 3) as usize;
            for _ in 0..1 + rng.next() % 3 {
                if rng.one_in(5) {
                    out.push_str(&pad(rng.next() as usize % 4));
                    out.push_str("# note\n");
                }
                out.push_str(&pad(child));
                out.push_str(rng.pick(&["a", "b", "c", "'k'", "1", "on"]));
                out.push(':');
                random_node(rng, out, child, depth + 1);
            }
        }
        3 => {
            // A block sequence below, compact (same column) or indented.
            out.push('\n');
            let child = indent + (rng.next() % 3) as usize;
            for _ in 0..1 + rng.next() % 3 {
                out.push_str(&pad(child));
                out.push('-');
                if rng.one_in(2) {
                    out.push_str(" k:");
                    random_node(rng, out, child + 2, depth + 1);
                } else {
                    random_node(rng, out, child, depth + 1);
                }
            }
        }
        4 => {
            // A block scalar.
            out.push(' ');
            out.push_str(rng.pick(&["|", "|-", "|+", ">", ">-", ">+"]));
            out.push('\n');
            let content = indent + 1 + (rng.next() % 3) as usize;
            for _ in 0..1 + rng.next() % 4 {
                match rng.next() % 4 {
                    0 => out.push('\n'),
                    1 => {
                        out.push_str(&pad(content + 2));
                        out.push_str(rng.pick(TEXT));
                        out.push('\n');
                    }
                    _ => {
                        out.push_str(&pad(content));
                        out.push_str(rng.pick(TEXT));
                        out.push('\n');
                    }
                }
            }
        }
        5 => {
            // A plain scalar folded over lines.
            out.push_str(" first");
            out.push('\n');
            for _ in 0..1 + rng.next() % 3 {
                if rng.one_in(3) {
                    out.push('\n');
                }
                out.push_str(&pad(indent + 1 + (rng.next() % 3) as usize));
                out.push_str(rng.pick(&["next", "and more", "- dash", "x#y", "'q'"]));
                out.push('\n');
            }
        }
        _ => {
            // A quoted scalar folded over lines.
            let q = rng.pick(&["'", "\""]);
            out.push(' ');
            out.push_str(q);
            out.push_str("start  ");
            for _ in 0..1 + rng.next() % 3 {
                if q == "\"" && rng.one_in(3) {
                    out.push('\\');
                }
                out.push('\n');
                if rng.one_in(3) {
                    out.push('\n');
                }
                out.push_str(&pad(indent + 1 + (rng.next() % 2) as usize));
                out.push_str("part ");
            }
            out.push_str(q);
            out.push('\n');
        }
    }
}

/// Random documents, mostly valid, some with one line's indentation nudged; wherever the
/// fast reader accepts one, it must agree with the full parser.
#[test]
fn random_documents_agree() {
    // PACK_FUZZ_SEED and PACK_FUZZ_TOTAL run other or longer series by hand.
    let env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let mut rng = Rng(env("PACK_FUZZ_SEED").unwrap_or(0x9E37_79B9_7F4A_7C15));
    let mut accepted = 0;
    let total = env("PACK_FUZZ_TOTAL").unwrap_or(3000) as usize;
    for _ in 0..total {
        let mut doc = String::new();
        for key in ["a", "b", "c"].iter().take(1 + (rng.next() % 3) as usize) {
            doc.push_str(key);
            doc.push(':');
            random_node(&mut rng, &mut doc, 0, 0);
        }
        if rng.one_in(4) {
            // Nudge one line one column left or right.
            let mut lines: Vec<String> = doc.lines().map(str::to_owned).collect();
            let i = (rng.next() % lines.len() as u64) as usize;
            if rng.one_in(2) {
                lines[i].insert(0, ' ');
            } else if lines[i].starts_with(' ') {
                lines[i].remove(0);
            }
            doc = lines.join("\n") + "\n";
        }
        for flavor in BOTH {
            if agree(&doc, flavor) {
                accepted += 1;
            }
        }
    }
    // Enough documents must be read here for the comparison to mean something.
    assert!(accepted > total, "only {accepted} of {} read", total * 2);
}
