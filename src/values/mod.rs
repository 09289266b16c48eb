//! Values exactly like Helm's: user values from `-f`/`--set*` in Helm's phase order,
//! coalescing with chart defaults and subcharts (globals, null deletion), and
//! `values.schema.json` validation.

pub mod coalesce;
pub mod options;
pub mod schema;
pub mod strvals;

pub use coalesce::{CoalesceError, Warning, coalesce_chart};
pub use options::{Layer, UserValues, ValueOptions, ValuesError};

use crate::chart::Chart;
use crate::chart::dependencies::{self, DependencyError};
use crate::value::{Map, Value};

/// Why the values a chart renders with could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// Dependencies are missing or their values are not tables.
    #[error(transparent)]
    Dependencies(#[from] DependencyError),
    /// A subchart's values are not a table.
    #[error(transparent)]
    Coalesce(#[from] CoalesceError),
    /// Values break a chart's schema.
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
}

/// The values a chart renders with, and what Helm would have warned about on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Computed {
    /// The root's `.Values` (subcharts find theirs under their names).
    pub values: Map,
    /// Coalescing and dependency warnings.
    pub warnings: Vec<Warning>,
}

/// Prepares a loaded chart for rendering with the user's values: checks its dependencies
/// are present, processes them (aliases, conditions, tags, import-values — the chart is
/// changed in place), coalesces, and validates every schema unless `skip_schema`.
pub fn compute(
    chart: &mut Chart,
    user: &UserValues,
    skip_schema: bool,
) -> Result<Computed, ComputeError> {
    let computed = compute_unchecked(chart, user)?;
    if !skip_schema {
        check_schemas(chart, &computed.values, user)?;
    }
    Ok(computed)
}

/// [`compute`] without the schemas, for callers that run [`check_schemas`] beside other
/// work (a render that is thrown away if the values fail their schemas).
pub fn compute_unchecked(chart: &mut Chart, user: &UserValues) -> Result<Computed, ComputeError> {
    let mut warnings = Vec::new();
    dependencies::check_present(chart)?;
    dependencies::process(chart, &user.values, &mut warnings)?;
    let values = coalesce_chart(chart, user.values.clone(), &mut warnings)?;
    Ok(Computed { values, warnings })
}

/// Validates [`compute_unchecked`]'s values against every schema of the chart.
pub fn check_schemas(chart: &Chart, values: &Map, user: &UserValues) -> Result<(), ComputeError> {
    Ok(schema::validate(chart, values, &user.layers)?)
}

/// Deep-merges `src` into `dest`, `src` winning: maps merge key by key, anything else
/// (lists included) is replaced. This is how `-f` files layer over each other.
pub fn merge_maps(dest: &mut Map, src: Map) {
    for (key, value) in src {
        match (dest.get_mut(&key), value) {
            (Some(Value::Map(d)), Value::Map(s)) => merge_maps(d, s),
            (_, value) => {
                dest.insert(key, value);
            }
        }
    }
}

/// The table at a dotted path (`a.b.c`), when every step is a map.
pub fn table_at<'a>(values: &'a Map, path: &str) -> Option<&'a Map> {
    let mut cur = values;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = cur.get(part)?.as_map()?;
    }
    Some(cur)
}

/// The value at a dotted path (`a.b.c`); `None` when a step is missing or not a map.
pub fn value_at<'a>(values: &'a Map, path: &str) -> Option<&'a Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (table_at(values, parent)?, last),
        None => (values, path),
    };
    parent.get(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::yaml::{self, Flavor};

    fn map(s: &str) -> Map {
        match yaml::from_str(s, Flavor::Core12).unwrap() {
            Value::Map(m) => m,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut dest = map("a: {x: 1, y: [1, 2]}\nb: 1");
        merge_maps(&mut dest, map("a: {y: [3], z: 2}\nb: {c: 1}"));
        assert_eq!(
            Value::Map(dest),
            Value::Map(map("a: {x: 1, y: [3], z: 2}\nb: {c: 1}"))
        );
    }

    #[test]
    fn paths() {
        let m = map("a: {b: {c: 1}}\nd: 2");
        assert_eq!(value_at(&m, "a.b.c"), Some(&Value::Int(1)));
        assert_eq!(value_at(&m, "d"), Some(&Value::Int(2)));
        assert_eq!(value_at(&m, "d.e"), None);
        assert!(table_at(&m, "a.b").is_some());
        assert!(table_at(&m, "a.b.c").is_none());
    }
}
