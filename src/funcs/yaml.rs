//! YAML functions: `toYaml`, `mustToYaml`, `toYamlPretty`, `fromYaml`, `fromYamlArray`,
//! with Helm's output (sigs.k8s.io/yaml: sorted keys, 80-column folding) and Helm's error
//! values (`fromYaml` gives `{Error: …}`, `fromYamlArray` gives `[…]`).

use super::args::exactly;
use super::{Func, FuncResult, Pipe};
use crate::value::emit::{EmitOptions, emit, to_yaml_helm};
use crate::value::yaml::{self, Flavor};
use crate::value::{Map, Value};

/// Helm's `toYaml`: the document with its final newline trimmed; "" for values YAML
/// cannot hold (Helm prints nothing for NaN).
pub fn to_yaml(args: &[Value]) -> FuncResult {
    let v = &exactly("toYaml", args, 1)?[0];
    Ok(Value::String(to_yaml_helm(v)))
}

/// `toYaml` for native charts: keys keep their order and long strings are not folded.
pub fn to_yaml_native(args: &[Value]) -> FuncResult {
    let v = &exactly("toYaml", args, 1)?[0];
    let mut out = emit(v, &EmitOptions::kubernetes());
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(Value::String(out))
}

/// Helm's `toYamlPretty` (yaml.v3 with 2-space indentation; lists indented under keys).
pub fn to_yaml_pretty(args: &[Value]) -> FuncResult {
    to_yaml(args)
}

fn parse(name: &str, args: &[Value], flavor: Flavor) -> Result<Value, String> {
    let v = &exactly(name, args, 1).map_err(|e| e.0)?[0];
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    yaml::from_str_first(&text, flavor).map_err(|e| e.to_string())
}

/// Helm's `fromYaml`: a map, or `{Error: message}` when the text is not a YAML mapping.
pub fn from_yaml(args: &[Value]) -> FuncResult {
    from_yaml_with(args, Flavor::Yaml11)
}

/// `fromYaml` reading YAML 1.2, for native charts.
pub fn from_yaml_native(args: &[Value]) -> FuncResult {
    from_yaml_with(args, Flavor::Core12)
}

fn from_yaml_with(args: &[Value], flavor: Flavor) -> FuncResult {
    let error = |msg: String| {
        let mut m = Map::default();
        m.insert("Error".into(), Value::String(msg));
        Value::Map(m)
    };
    Ok(match parse("fromYaml", args, flavor) {
        Ok(Value::Map(m)) => Value::Map(m),
        Ok(Value::Null) => Value::map(),
        Ok(other) => error(format!(
            "error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            other.type_name()
        )),
        Err(e) => error(e),
    })
}

/// Helm's `fromYamlArray`: a list, or `[message]` when the text is not a YAML sequence.
pub fn from_yaml_array(args: &[Value]) -> FuncResult {
    Ok(match parse("fromYamlArray", args, Flavor::Yaml11) {
        Ok(Value::List(l)) => Value::List(l),
        Ok(Value::Null) => Value::List(Vec::new()),
        Ok(other) => Value::List(vec![Value::String(format!(
            "error unmarshaling JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            other.type_name()
        ))]),
        Err(e) => Value::List(vec![Value::String(e)]),
    })
}

/// The YAML functions (Helm's output).
pub const FUNCS: &[Func] = &[
    Func {
        name: "toYaml",
        call: to_yaml,
        pipe: Pipe::Last,
    },
    Func {
        name: "mustToYaml",
        call: to_yaml,
        pipe: Pipe::Last,
    },
    Func {
        name: "toYamlPretty",
        call: to_yaml_pretty,
        pipe: Pipe::Last,
    },
    Func {
        name: "fromYaml",
        call: from_yaml,
        pipe: Pipe::Last,
    },
    Func {
        name: "fromYamlArray",
        call: from_yaml_array,
        pipe: Pipe::Last,
    },
];

/// Native-chart variants that replace their Helm namesakes in the native engine.
pub const NATIVE_OVERRIDES: &[Func] = &[
    Func {
        name: "toYaml",
        call: to_yaml_native,
        pipe: Pipe::Last,
    },
    Func {
        name: "fromYaml",
        call: from_yaml_native,
        pipe: Pipe::Last,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    #[test]
    fn to_yaml_forms() {
        let v = yaml::from_str("b: 1\na: [x, 'yes']", Flavor::Core12).unwrap();
        assert_eq!(
            to_yaml(std::slice::from_ref(&v)).unwrap(),
            s("a:\n- x\n- \"yes\"\nb: 1")
        );
        assert_eq!(to_yaml_native(&[v]).unwrap(), s("b: 1\na:\n- x\n- \"yes\""));
        assert!(to_yaml(&[]).is_err());
    }

    #[test]
    fn from_yaml_errors_are_values() {
        let ok = from_yaml(&[s("a: 1")]).unwrap();
        assert_eq!(ok.get("a"), Some(&Value::Int(1)));
        let bad = from_yaml(&[s("a: [1")]).unwrap();
        assert!(bad.get("Error").is_some());
        let list = from_yaml(&[s("- a")]).unwrap();
        assert!(list.get("Error").is_some());
        assert_eq!(
            from_yaml_array(&[s("- a\n- b")])
                .unwrap()
                .as_list()
                .map(<[Value]>::len),
            Some(2)
        );
        assert!(matches!(&from_yaml_array(&[s("a: 1")]).unwrap(), Value::List(l) if l.len() == 1));
        // YAML 1.2 for native charts: `on` stays a string.
        assert_eq!(
            from_yaml_native(&[s("on: yes")]).unwrap().get("on"),
            Some(&s("yes"))
        );
    }
}
