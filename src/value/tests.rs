use super::yaml::{self, Flavor};
use super::*;

fn read(s: &str, flavor: Flavor) -> Value {
    yaml::from_str(s, flavor).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// The value under key `a` of a one-line document, in both flavours.
fn scalar(doc: &str) -> (Value, Value) {
    let pick = |v: Value| v.get("a").cloned().expect("key a");
    (
        pick(read(doc, Flavor::Core12)),
        pick(read(doc, Flavor::Yaml11)),
    )
}

#[test]
fn yaml11_booleans_are_strings_in_core12() {
    for word in [
        "yes", "Yes", "YES", "no", "on", "On", "off", "OFF", "y", "Y", "n", "N",
    ] {
        let (core, y11) = scalar(&format!("a: {word}"));
        assert_eq!(core, Value::from(word), "YAML 1.2 keeps {word} a string");
        let expected = matches!(word.to_ascii_lowercase().as_str(), "yes" | "on" | "y");
        assert_eq!(
            y11,
            Value::Bool(expected),
            "YAML 1.1 reads {word} as a boolean"
        );
    }
    for (word, b) in [("true", true), ("True", true), ("FALSE", false)] {
        assert_eq!(
            scalar(&format!("a: {word}")),
            (Value::Bool(b), Value::Bool(b))
        );
    }
}

#[test]
fn keys_that_are_yaml11_booleans() {
    // GitHub-Actions-style `on:` key: a string key in YAML 1.2, "true" via Helm's JSON path.
    let core = read("on: push\ny: 1", Flavor::Core12);
    assert_eq!(core.get("on"), Some(&Value::from("push")));
    assert_eq!(core.get("y"), Some(&Value::Int(1)));
    let y11 = read("on: push", Flavor::Yaml11);
    assert_eq!(y11.get("true"), Some(&Value::from("push")));
}

#[test]
fn number_forms_per_flavour() {
    let cases: &[(&str, Value, Value)] = &[
        ("0755", Value::from("0755"), Value::Int(0o755)),
        ("0o755", Value::Int(0o755), Value::Int(0o755)),
        ("0x1F", Value::Int(31), Value::Int(31)),
        ("1_000", Value::from("1_000"), Value::Int(1000)),
        ("1000000", Value::Int(1_000_000), Value::Int(1_000_000)),
        ("-42", Value::Int(-42), Value::Int(-42)),
        ("+12", Value::Int(12), Value::Int(12)),
        ("1.5", Value::Float(1.5), Value::Float(1.5)),
        ("1e3", Value::Float(1000.0), Value::Float(1000.0)),
        ("1.0", Value::Float(1.0), Value::Float(1.0)),
    ];
    for (text, core, y11) in cases {
        let (c, y) = scalar(&format!("a: {text}"));
        assert_eq!(&c, core, "YAML 1.2 {text}");
        assert_eq!(&y, y11, "YAML 1.1 {text}");
        // PartialEq compares numbers by value; check the kind too.
        assert_eq!(c.type_name(), core.type_name(), "YAML 1.2 kind of {text}");
        assert_eq!(y.type_name(), y11.type_name(), "YAML 1.1 kind of {text}");
    }
}

#[test]
fn integers_stay_integers_and_floats_stay_floats() {
    let (v, _) = scalar("a: 1000000");
    assert!(matches!(v, Value::Int(1_000_000)));
    assert_eq!(v.to_string(), "1000000");
    let (f, _) = scalar("a: 2.50");
    assert!(matches!(f, Value::Float(_)));
    assert_eq!(f.to_string(), "2.5");
    // Beyond i64 a number is kept as a float rather than failing.
    let (big, _) = scalar("a: 12345678901234567890");
    assert!(matches!(big, Value::Float(_)));
}

#[test]
fn null_is_distinct_from_missing() {
    let v = read("a: ~\nb:\nc: null", Flavor::Core12);
    for k in ["a", "b", "c"] {
        assert_eq!(v.get(k), Some(&Value::Null), "{k} is present and null");
    }
    assert_eq!(v.get("d"), None);
    assert_eq!(read("", Flavor::Core12), Value::Null);
    assert_eq!(read("# only a comment\n", Flavor::Yaml11), Value::Null);
}

#[test]
fn maps_keep_their_order() {
    let v = read("zeta: 1\nalpha: 2\nmid: 3", Flavor::Core12);
    let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["zeta", "alpha", "mid"]);
}

#[test]
fn duplicate_keys_error_in_native_and_last_wins_in_helm() {
    let err = yaml::from_str("a: 1\nb: 2\na: 3", Flavor::Core12).unwrap_err();
    assert!(err.message.to_lowercase().contains("duplicate"), "{err}");
    assert_eq!(err.line, Some(3), "{err:?}");
    let v = read("a: 1\na: 3", Flavor::Yaml11);
    assert_eq!(v.get("a"), Some(&Value::Int(3)));
}

#[test]
fn syntax_errors_have_a_position() {
    let err = yaml::from_str("a:\n  b: [1, 2\nc: 3", Flavor::Core12).unwrap_err();
    assert!(err.line.is_some(), "{err:?}");
    assert!(err.to_string().starts_with("line "), "{err}");
}

#[test]
fn merge_keys_and_anchors() {
    let v = read(
        "base: &b {p: 1, q: 2}\nderived:\n  <<: *b\n  q: 3",
        Flavor::Yaml11,
    );
    assert_eq!(v.get_path(["derived", "p"]), Some(&Value::Int(1)));
    assert_eq!(v.get_path(["derived", "q"]), Some(&Value::Int(3)));
    // In YAML 1.1 even the key `y` is a boolean, which Helm's JSON path spells "true".
    let y11 = read("y: 2", Flavor::Yaml11);
    assert_eq!(y11.get("true"), Some(&Value::Int(2)));
}

#[test]
fn multi_document_streams_drop_empty_documents() {
    let docs =
        yaml::from_str_multi("---\na: 1\n---\n---\n# c\n---\nb: 2\n", Flavor::Yaml11).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].get("b"), Some(&Value::Int(2)));
}

#[test]
fn writing_quotes_what_yaml11_would_misread() {
    let ambiguous = [
        "yes",
        "on",
        "y",
        "n",
        "NO",
        "off",
        "true",
        "null",
        "~",
        "",
        "0755",
        "123",
        "1.0",
        "1e3",
        "0x1F",
        "1_000",
        "2001-12-14",
    ];
    let mut m = Map::default();
    for s in ambiguous {
        m.insert(format!("k{s}"), Value::from(s));
    }
    let out = yaml::to_string(&Value::Map(m));
    // Read back the way kubectl and the API server read: every value is still that string.
    let back = read(&out, Flavor::Yaml11);
    for s in ambiguous {
        assert_eq!(
            back.get(&format!("k{s}")),
            Some(&Value::from(s)),
            "{s:?} in\n{out}"
        );
    }
}

#[test]
fn writing_kubernetes_shapes() {
    let v = read(
        "spec:\n  replicas: 3\n  ratio: 0.5\n  containers:\n  - name: web\n    args: [a, b]\n  empty: {}\n  none: []\n  script: \"line1\\nline2\\n\"\n",
        Flavor::Core12,
    );
    let out = yaml::to_string(&v);
    assert_eq!(
        out,
        "spec:\n  replicas: 3\n  ratio: 0.5\n  containers:\n  - name: web\n    args:\n    - a\n    - b\n  empty: {}\n  none: []\n  script: |\n    line1\n    line2\n"
    );
    assert_eq!(read(&out, Flavor::Yaml11), v);
}

#[test]
fn whole_floats_are_written_as_integers() {
    let mut m = Map::default();
    m.insert("replicas".into(), Value::Float(3.0));
    m.insert("ratio".into(), Value::Float(1.5));
    assert_eq!(yaml::to_string(&Value::Map(m)), "replicas: 3\nratio: 1.5\n");
}

#[test]
fn long_strings_stay_on_one_line() {
    let long = "word ".repeat(40);
    let mut m = Map::default();
    m.insert("a".into(), Value::from(long.trim()));
    let out = yaml::to_string(&Value::Map(m));
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn emptiness_follows_go_and_sprig() {
    for empty in [
        Value::Null,
        Value::Bool(false),
        Value::Int(0),
        Value::Float(0.0),
        Value::from(""),
        Value::List(vec![]),
        Value::map(),
    ] {
        assert!(empty.is_empty(), "{empty:?}");
    }
    for full in [
        Value::Bool(true),
        Value::Int(-1),
        Value::from("0"),
        Value::from(" "),
    ] {
        assert!(full.is_truthy(), "{full:?}");
    }
}

#[test]
fn helm_path_turns_numbers_into_float64() {
    let mut v = read("a: 1000000\nb: [1, {c: 2}]\nd: x", Flavor::Yaml11);
    v.ints_to_floats();
    assert!(matches!(v.get("a"), Some(Value::Float(_))));
    assert!(matches!(
        v.get_path(["b"]).and_then(|b| b.as_list()).map(|l| &l[0]),
        Some(Value::Float(_))
    ));
    assert_eq!(v.get("d"), Some(&Value::from("x")));
}

#[test]
fn json_round_trip_keeps_kinds_and_order() {
    let v = Value::from_json(r#"{"z": 1, "a": 1.5, "n": null, "l": [true, "s"]}"#).unwrap();
    assert!(matches!(v.get("z"), Some(Value::Int(1))));
    assert!(matches!(v.get("a"), Some(Value::Float(_))));
    assert_eq!(v.to_json(), r#"{"z":1,"a":1.5,"n":null,"l":[true,"s"]}"#);
}

#[test]
fn float_formatting() {
    for (x, s) in [
        (3.0, "3"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e6, "1000000"),
        (-2.5, "-2.5"),
    ] {
        assert_eq!(format_float(x), s);
    }
}

#[test]
fn numbers_compare_by_value_maps_by_content() {
    assert_eq!(Value::Int(2), Value::Float(2.0));
    assert_ne!(Value::Int(2), Value::from("2"));
    let a = read("x: 1\ny: 2", Flavor::Core12);
    let b = read("y: 2\nx: 1", Flavor::Core12);
    assert_eq!(a, b);
}
