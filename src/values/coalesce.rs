//! Coalescing: chart defaults and subchart defaults under user-supplied values, with Helm's
//! rules — maps merge, lists and scalars replace, `null` deletes a key a lower layer has,
//! and `global` flows down into every subchart with the parent winning.

use crate::chart::Chart;
use crate::value::{Map, Value};

/// Something Helm would print as a warning while coalescing (a table meeting a scalar).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The dotted path of the value (`chart.key.sub`).
    pub path: String,
    /// What happened.
    pub message: String,
}

impl std::fmt::Display for Warning {
    /// Helm's wording of the warning (which names the path itself).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Values given for a subchart that are not a table (`--set sub=x`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("type mismatch on {path}: values for subchart {name:?} must be a table, got a {found}")]
pub struct CoalesceError {
    /// Where, as a dotted path.
    pub path: String,
    /// The subchart.
    pub name: String,
    /// The kind of value found.
    pub found: &'static str,
}

/// Coalesces `user` values over the chart's defaults and, recursively, over each
/// subchart's defaults under the subchart's name — what templates see as `.Values` at the
/// root. Keys set to `null` in `user` remove the default they override.
pub fn coalesce_chart(
    chart: &Chart,
    user: Map,
    warnings: &mut Vec<Warning>,
) -> Result<Map, CoalesceError> {
    let mut c = Coalescer {
        warnings,
        merge: false,
    };
    c.chart(chart, user, "")
}

/// Like [`coalesce_chart`], but `null`s are kept instead of deleting keys (Helm's
/// "merge" mode, used when import-values are computed).
pub fn merge_chart(
    chart: &Chart,
    user: Map,
    warnings: &mut Vec<Warning>,
) -> Result<Map, CoalesceError> {
    let mut c = Coalescer {
        warnings,
        merge: true,
    };
    c.chart(chart, user, "")
}

/// Coalesces two tables: `dest` has precedence, `src` fills what it lacks.
pub fn coalesce_tables(dest: &mut Map, src: &Map, warnings: &mut Vec<Warning>) {
    let mut c = Coalescer {
        warnings,
        merge: false,
    };
    c.tables(dest, src, "", false);
}

/// Merges two tables like [`coalesce_tables`] but keeps `null`s in `dest`.
pub fn merge_tables(dest: &mut Map, src: &Map, warnings: &mut Vec<Warning>) {
    let mut c = Coalescer {
        warnings,
        merge: true,
    };
    c.tables(dest, src, "", true);
}

struct Coalescer<'w> {
    warnings: &'w mut Vec<Warning>,
    merge: bool,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Coalescer<'_> {
    fn warn(&mut self, path: String, message: String) {
        self.warnings.push(Warning { path, message });
    }

    fn chart(&mut self, chart: &Chart, mut dest: Map, prefix: &str) -> Result<Map, CoalesceError> {
        self.defaults(chart, &mut dest, prefix);
        self.dependencies(chart, &mut dest, prefix)?;
        Ok(dest)
    }

    /// The chart's own defaults under `dest`.
    fn defaults(&mut self, chart: &Chart, dest: &mut Map, prefix: &str) {
        let Some(defaults) = chart.values.as_map() else {
            return;
        };
        let sub_prefix = join(prefix, chart.name());
        for (key, default) in defaults {
            match dest.get_mut(key) {
                Some(Value::Null) if !self.merge => {
                    dest.shift_remove(key);
                }
                Some(Value::Map(d)) => match default {
                    Value::Map(s) => {
                        let path = join(&sub_prefix, key);
                        // Nulls aimed at a subchart survive this level so that they can
                        // delete the subchart's own defaults when its turn comes.
                        let is_subchart = chart.dependencies.iter().any(|c| c.name() == key);
                        self.tables(d, s, &path, self.merge || is_subchart);
                    }
                    Value::Null => {}
                    _ => {
                        let path = join(&sub_prefix, key);
                        let message = format!("warning: skipped value for {path}: Not a table.");
                        self.warn(path, message);
                    }
                },
                Some(_) => {}
                None => {
                    dest.insert(key.clone(), default.clone());
                }
            }
        }
    }

    /// Each subchart's defaults under `dest[<subchart>]`, after pushing globals down.
    fn dependencies(
        &mut self,
        chart: &Chart,
        dest: &mut Map,
        prefix: &str,
    ) -> Result<(), CoalesceError> {
        let sub_prefix = join(prefix, chart.name());
        for sub in &chart.dependencies {
            let name = sub.name();
            // Taken out in place, so the key keeps its position in the map.
            let mut sub_values = match dest.get_mut(name) {
                None => Map::default(),
                Some(Value::Map(m)) => std::mem::take(m),
                Some(other) => {
                    return Err(CoalesceError {
                        path: join(&sub_prefix, name),
                        name: name.to_owned(),
                        found: other.type_name(),
                    });
                }
            };
            self.globals(&mut sub_values, dest, &sub_prefix);
            let merged = self.chart(sub, sub_values, &sub_prefix)?;
            dest.insert(name.to_owned(), Value::Map(merged));
        }
        Ok(())
    }

    /// Copies the parent's `global` into the subchart's, the parent winning.
    fn globals(&mut self, sub: &mut Map, parent: &Map, prefix: &str) {
        let Some(Value::Map(parent_globals)) = parent.get("global") else {
            return;
        };
        let mut globals = match sub.shift_remove("global") {
            Some(Value::Map(m)) => m,
            _ => Map::default(),
        };
        for (key, value) in parent_globals {
            match value {
                Value::Map(pv) => {
                    let mut parent_copy = pv.clone();
                    match globals.get(key) {
                        Some(Value::Map(own)) => {
                            let own = own.clone();
                            let path = join(prefix, &format!("global.{key}"));
                            self.tables(&mut parent_copy, &own, &path, self.merge);
                            globals.insert(key.clone(), Value::Map(parent_copy));
                        }
                        Some(_) => {
                            let path = join(prefix, &format!("global.{key}"));
                            let message =
                                format!("warning: cannot merge a table into the non-table {path}");
                            self.warn(path, message);
                        }
                        None => {
                            globals.insert(key.clone(), Value::Map(parent_copy));
                        }
                    }
                }
                scalar => match globals.get(key) {
                    Some(Value::Map(_)) => {
                        let path = join(prefix, &format!("global.{key}"));
                        let message = format!(
                            "warning: {path} is a table in the subchart; skipping the parent's non-table value"
                        );
                        self.warn(path, message);
                    }
                    _ => {
                        globals.insert(key.clone(), scalar.clone());
                    }
                },
            }
        }
        sub.insert("global".to_owned(), Value::Map(globals));
    }

    /// `dest` wins over `src`; `src` fills in missing keys; nested tables recurse. With
    /// `merge`, a null in `dest` is kept instead of deleting the key.
    fn tables(&mut self, dest: &mut Map, src: &Map, prefix: &str, merge: bool) {
        for (key, sv) in src {
            let path = join(prefix, key);
            match dest.get_mut(key) {
                Some(Value::Null) if !merge => {
                    dest.shift_remove(key);
                }
                None => {
                    dest.insert(key.clone(), sv.clone());
                }
                Some(Value::Map(dv)) => match sv {
                    Value::Map(sm) => self.tables(dv, sm, &path, merge),
                    Value::Null => {}
                    other => {
                        let message = format!(
                            "warning: destination for {path} is a table. Ignoring non-table value ({})",
                            crate::funcs::format::go_sprint_value(other)
                        );
                        self.warn(path, message);
                    }
                },
                Some(_) => {
                    if let Value::Map(_) = sv {
                        let message = format!(
                            "warning: cannot overwrite table with non table for {path} ({})",
                            crate::funcs::format::go_sprint_value(sv)
                        );
                        self.warn(path, message);
                    }
                }
            }
        }
    }
}
