//! `values.schema.json`: each chart's schema checked against its coalesced values, with
//! errors that name the chart, the value's path, the rule, and the file or flag that set it.

use super::options::{Layer, layer_setting};
use crate::chart::Chart;
use crate::value::{Map, Value};
use serde_json::Value as Json;
use std::fmt;

/// One value that breaks a chart's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The chart whose schema is broken (`parent/charts/sub`).
    pub chart: String,
    /// Path of the value inside that chart's values, as a JSON pointer (`/image/tag`).
    pub path: String,
    /// The schema keyword that fails (`minimum`, `required`, `type`…).
    pub rule: String,
    /// What is wrong.
    pub message: String,
    /// The user's file or flag that set the value, when one did.
    pub set_by: Option<String>,
}

/// Why values were refused.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A chart's `values.schema.json` is not a valid JSON Schema.
    #[error("{chart}/values.schema.json: {message}")]
    InvalidSchema {
        /// The chart.
        chart: String,
        /// What is wrong with the schema.
        message: String,
    },
    /// Values break one or more schemas.
    #[error("{}", render(.0))]
    Violations(Vec<Violation>),
}

fn render(violations: &[Violation]) -> String {
    let mut out = String::from("values don't meet the schema of their chart:");
    let mut last_chart = "";
    for v in violations {
        if v.chart != last_chart {
            out.push_str(&format!("\n{}/values.schema.json:", v.chart));
            last_chart = &v.chart;
        }
        let path = if v.path.is_empty() { "/" } else { &v.path };
        out.push_str(&format!("\n  - at {path}: {} ({})", v.message, v.rule));
        if let Some(src) = &v.set_by {
            out.push_str(&format!(" — set by {src}"));
        }
    }
    out
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} ({})",
            self.chart, self.path, self.message, self.rule
        )
    }
}

/// Validates the coalesced `values` of `chart` (the root's whole tree) against the root's
/// schema and, recursively, each subchart's `values.<name>` against the subchart's schema.
/// `layers` are the user's value sources, to name the file or flag behind each error.
///
/// Unlike Helm, the `global` table that every chart receives is not checked against a
/// schema that does not declare it, so `additionalProperties: false` works in subcharts.
pub fn validate(chart: &Chart, values: &Map, layers: &[Layer]) -> Result<(), SchemaError> {
    let mut violations = Vec::new();
    walk(chart, values, &chart.origin, &[], layers, &mut violations)?;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Violations(violations))
    }
}

fn walk(
    chart: &Chart,
    values: &Map,
    label: &str,
    prefix: &[String],
    layers: &[Layer],
    out: &mut Vec<Violation>,
) -> Result<(), SchemaError> {
    if let Some(raw) = &chart.schema {
        check(raw, values, label, prefix, layers, out)?;
    }
    for sub in &chart.dependencies {
        let Some(Value::Map(sub_values)) = values.get(sub.name()) else {
            continue;
        };
        let mut sub_prefix = prefix.to_vec();
        sub_prefix.push(sub.name().to_owned());
        let sub_label = format!("{label}/charts/{}", sub.name());
        walk(sub, sub_values, &sub_label, &sub_prefix, layers, out)?;
    }
    Ok(())
}

/// A schema ready to check values with, or what is wrong with it.
struct Compiled {
    validator: Result<jsonschema::Validator, String>,
    /// The schema has a `global` property (else `global` is left out of the values).
    declares_global: bool,
}

fn compile(raw: &[u8]) -> Compiled {
    let schema: Json = match serde_json::from_slice(raw) {
        Ok(s) => s,
        Err(e) => {
            return Compiled {
                validator: Err(e.to_string()),
                declares_global: false,
            };
        }
    };
    Compiled {
        validator: jsonschema::validator_for(&schema).map_err(|e| e.to_string()),
        declares_global: schema
            .get("properties")
            .and_then(|p| p.get("global"))
            .is_some(),
    }
}

type Slot = std::sync::Arc<std::sync::OnceLock<Compiled>>;

/// Schemas compiled ahead (see [`precompile`]), by their text.
static AHEAD: std::sync::Mutex<Vec<(Vec<u8>, Slot)>> = std::sync::Mutex::new(Vec::new());

/// Compiles a schema ahead of [`validate`], on another thread while the chart loads:
/// compiling is most of a schema's cost (cert-manager's 115 KB take ~1.5 ms, and the first
/// schema of a process ~2 ms more), checking values takes microseconds. [`validate`] takes
/// the result, waiting for it if the compile is still running. Only schemas handed here are
/// kept, for the life of the process.
pub fn precompile(raw: Vec<u8>) {
    let slot = {
        let Ok(mut ahead) = AHEAD.lock() else {
            return;
        };
        if ahead.iter().any(|(text, _)| *text == raw) {
            return;
        }
        let slot = Slot::default();
        ahead.push((raw.clone(), slot.clone()));
        slot
    };
    slot.get_or_init(|| compile(&raw));
}

/// The slot of a schema [`precompile`] was given (filled, waiting for a compile still
/// running), else a fresh slot compiled now.
fn compiled(raw: &[u8]) -> Slot {
    let ahead = AHEAD.lock().ok().and_then(|ahead| {
        ahead
            .iter()
            .find(|(text, _)| text == raw)
            .map(|(_, s)| s.clone())
    });
    let slot = ahead.unwrap_or_default();
    slot.get_or_init(|| compile(raw));
    slot
}

fn check(
    raw: &[u8],
    values: &Map,
    label: &str,
    prefix: &[String],
    layers: &[Layer],
    out: &mut Vec<Violation>,
) -> Result<(), SchemaError> {
    let slot = compiled(raw);
    let compiled = slot.wait();
    let validator = compiled
        .validator
        .as_ref()
        .map_err(|e| SchemaError::InvalidSchema {
            chart: label.to_owned(),
            message: e.clone(),
        })?;
    let declares_global = compiled.declares_global;
    // The values as JSON, straight from the map (no copy of the tree first).
    let instance = Json::Object(
        values
            .iter()
            .filter(|(k, _)| declares_global || k.as_str() != "global")
            .map(|(k, v)| (k.clone(), v.to_json_for_validation()))
            .collect(),
    );
    for error in validator.iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_owned();
        let mut full: Vec<String> = prefix.to_vec();
        full.extend(
            pointer
                .split('/')
                .skip(1)
                .map(|s| s.replace("~1", "/").replace("~0", "~")),
        );
        out.push(Violation {
            chart: label.to_owned(),
            path: pointer,
            rule: error.kind().keyword().to_owned(),
            message: error.to_string(),
            set_by: layer_setting(layers, &full).map(|l| l.source.clone()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::chart::{self, Engine};
    use crate::values::{UserValues, ValueOptions, compute};
    use std::fs;
    use std::path::Path;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// A chart with a schema and a subchart with a strict schema.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        );
        write(
            d,
            "values.yaml",
            "replicas: 1\nimage: {tag: '1.0'}\nglobal: {env: dev}\n",
        );
        write(
            d,
            "values.schema.json",
            r#"{"type": "object", "required": ["image"],
                "properties": {
                  "replicas": {"type": "integer", "minimum": 1},
                  "image": {"type": "object", "properties": {"tag": {"type": "string", "pattern": "^[0-9.]+$"}}}
                }}"#,
        );
        write(
            d,
            "charts/db/Chart.yaml",
            "apiVersion: v2\nname: db\nversion: 1.0.0\n",
        );
        write(d, "charts/db/values.yaml", "size: 10\n");
        write(
            d,
            "charts/db/values.schema.json",
            r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                "additionalProperties": false,
                "properties": {"size": {"type": "number", "maximum": 100}}}"#,
        );
        dir
    }

    fn run(dir: &Path, opts: ValueOptions) -> Result<(), String> {
        let mut c = chart::load(dir).unwrap();
        let user: UserValues = opts.build(Engine::Helm, &mut std::io::empty()).unwrap();
        compute(&mut c, &user, false)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn schemas_compiled_ahead_are_taken_and_give_the_same_answers() {
        let raw = br#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}, "global": {}}}"#;
        let broken = br#"{"type": "object", "properties": "#;
        // Before any precompile, both compile on the spot.
        let fresh = super::compiled(raw)
            .get()
            .map(|c| (c.validator.is_ok(), c.declares_global));
        let fresh_err = super::compiled(broken)
            .get()
            .and_then(|c| c.validator.as_ref().err().cloned());
        super::precompile(raw.to_vec());
        super::precompile(broken.to_vec());
        let ahead = super::compiled(raw)
            .get()
            .map(|c| (c.validator.is_ok(), c.declares_global));
        assert_eq!(ahead, fresh);
        assert_eq!(ahead, Some((true, true)));
        let ahead_err = super::compiled(broken)
            .get()
            .and_then(|c| c.validator.as_ref().err().cloned());
        assert_eq!(ahead_err, fresh_err);
        assert!(ahead_err.is_some());
    }

    #[test]
    fn defaults_pass_including_the_global_a_subchart_receives() {
        // db's schema forbids extra properties and does not declare `global`, which Helm
        // would reject (helm#10392); pack does not check `global` there.
        let dir = fixture();
        assert_eq!(run(dir.path(), ValueOptions::default()), Ok(()));
    }

    #[test]
    fn errors_name_chart_path_rule_and_source() {
        let dir = fixture();
        let values = dir.path().join("bad.yaml");
        fs::write(&values, "replicas: 0\n").unwrap();
        let opts = ValueOptions {
            values_files: vec![values.display().to_string()],
            set: vec!["image.tag=latest".into(), "db.size=500".into()],
            ..Default::default()
        };
        let err = run(dir.path(), opts).unwrap_err();
        assert!(err.contains("values don't meet the schema"), "{err}");
        assert!(
            err.contains("- at /replicas:") && err.contains("(minimum)"),
            "{err}"
        );
        assert!(
            err.contains(&format!("set by -f {}", values.display())),
            "{err}"
        );
        assert!(
            err.contains("- at /image/tag:") && err.contains("(pattern)"),
            "{err}"
        );
        assert!(err.contains("set by --set image.tag=latest"), "{err}");
        assert!(err.contains("charts/db/values.schema.json"), "{err}");
        assert!(
            err.contains("- at /size:") && err.contains("(maximum)"),
            "{err}"
        );
    }

    #[test]
    fn strict_subchart_schema_still_refuses_unknown_keys() {
        let dir = fixture();
        let opts = ValueOptions {
            set: vec!["db.unknown=1".into()],
            ..Default::default()
        };
        let err = run(dir.path(), opts).unwrap_err();
        assert!(
            err.contains("(additionalProperties)") && err.contains("unknown"),
            "{err}"
        );
    }

    #[test]
    fn whole_floats_satisfy_integer() {
        // Helm reads `replicas: 3` from a file as float64 3; the schema says integer.
        let dir = fixture();
        let opts = ValueOptions {
            set_json: vec!["replicas=3".into()],
            ..Default::default()
        };
        assert_eq!(run(dir.path(), opts), Ok(()));
    }

    #[test]
    fn invalid_schema_is_reported_with_its_file() {
        let dir = fixture();
        write(dir.path(), "values.schema.json", "{not json");
        let err = run(dir.path(), ValueOptions::default()).unwrap_err();
        assert!(err.contains("values.schema.json"), "{err}");
    }
}
