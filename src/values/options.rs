//! User-supplied values from `-f` files and the `--set` family, merged in Helm's fixed phase
//! order: files, `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`.

use super::merge_maps;
use super::strvals::{self, SetError, SetFlag};
use crate::chart::Engine;
use crate::value::yaml::{Flavor, YamlError};
use crate::value::{Map, Value};
use std::io::Read;
use std::path::PathBuf;

/// The value flags of a command, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValueOptions {
    /// `-f/--values`: files in order (`-` is standard input).
    pub values_files: Vec<String>,
    /// `--set-json`.
    pub set_json: Vec<String>,
    /// `--set`.
    pub set: Vec<String>,
    /// `--set-string`.
    pub set_string: Vec<String>,
    /// `--set-file`.
    pub set_file: Vec<String>,
    /// `--set-literal`.
    pub set_literal: Vec<String>,
}

/// Why user values could not be built. Each variant names the file or flag.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// A values file could not be read.
    #[error("values file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A values file is not valid YAML.
    #[error("values file {path}: {source}")]
    Yaml {
        /// The file.
        path: String,
        /// Where and why.
        source: YamlError,
    },
    /// A `--set`-family argument is malformed; the message is Helm's.
    #[error("{message}")]
    Set {
        /// Helm's wording, e.g. `failed parsing --set data: key "q" has no value`.
        message: String,
        /// What is wrong.
        source: SetError,
    },
    /// A values file could not be fetched from its URL.
    #[error("values file {url}: {message}")]
    Url {
        /// The address.
        url: String,
        /// What went wrong (network error or HTTP status).
        message: String,
    },
}

/// One source of user values, kept to say which file or flag set a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// `-f prod.yaml`, `--set a=1`…
    pub source: String,
    /// The values that source sets on its own.
    pub values: Map,
}

/// The user-supplied values and the sources they came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserValues {
    /// The merged values (what Helm stores as a release's `config`).
    pub values: Map,
    /// Each file and flag on its own, lowest precedence first.
    pub layers: Vec<Layer>,
}

impl ValueOptions {
    /// True when no value flag was given (an upgrade then reuses the last release's values).
    pub fn is_empty(&self) -> bool {
        *self == ValueOptions::default()
    }

    /// The merged user values for a chart read with `engine`'s YAML flavour: `-f` files
    /// deep-merged in order, then every `--set`-family argument applied onto the result in
    /// Helm's phase order (so `--set a[1]=x` edits a list a file gave). `stdin` serves
    /// `-f -` and `--set-file k=-`.
    pub fn build(&self, engine: Engine, stdin: &mut dyn Read) -> Result<UserValues, ValuesError> {
        let flavor = match engine {
            Engine::Native => Flavor::Core12,
            Engine::Helm => Flavor::Yaml11,
        };
        let mut stdin_text: Option<String> = None;
        let mut read_stdin = |what: &str| -> Result<String, ValuesError> {
            if let Some(text) = &stdin_text {
                return Ok(text.clone());
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|source| ValuesError::Read {
                    path: what.to_owned(),
                    source,
                })?;
            stdin_text = Some(text.clone());
            Ok(text)
        };
        let mut out = UserValues::default();
        for path in &self.values_files {
            let text = if path == "-" {
                read_stdin("-")?
            } else if path.starts_with("http://") || path.starts_with("https://") {
                fetch(path)?
            } else {
                std::fs::read_to_string(PathBuf::from(path)).map_err(|source| {
                    ValuesError::Read {
                        path: path.clone(),
                        source,
                    }
                })?
            };
            let values =
                crate::chart::read_values_text(&text, flavor, engine).map_err(|source| {
                    ValuesError::Yaml {
                        path: path.clone(),
                        source,
                    }
                })?;
            merge_maps(&mut out.values, values.clone());
            out.layers.push(Layer {
                source: format!("-f {path}"),
                values,
            });
        }
        let phases: [(SetFlag, &Vec<String>); 5] = [
            (SetFlag::SetJson, &self.set_json),
            (SetFlag::Set, &self.set),
            (SetFlag::SetString, &self.set_string),
            (SetFlag::SetFile, &self.set_file),
            (SetFlag::SetLiteral, &self.set_literal),
        ];
        for (flag, args) in phases {
            for arg in args {
                let mut read = |path: &str| -> Result<String, String> {
                    if path == "-" {
                        return read_stdin("-").map_err(|e| e.to_string());
                    }
                    std::fs::read_to_string(path).map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => {
                            format!("open {path}: no such file or directory")
                        }
                        _ => format!("open {path}: {e}"),
                    })
                };
                strvals::parse_flag(flag, arg, &mut out.values, &mut read).map_err(|source| {
                    ValuesError::Set {
                        message: source.helm_message(flag, arg),
                        source,
                    }
                })?;
                // The argument on its own, only to attribute schema errors to it.
                let mut alone = Map::default();
                if strvals::parse_flag(flag, arg, &mut alone, &mut read).is_ok() {
                    out.layers.push(Layer {
                        source: format!("{flag} {arg}"),
                        values: alone,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// How long fetching a values file may take.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads a values file from an `http://` or `https://` address.
fn fetch(url: &str) -> Result<String, ValuesError> {
    let err = |message: String| ValuesError::Url {
        url: url.to_owned(),
        message,
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let response = client.get(url).send().map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(format!("the server answered {status}")));
    }
    response.text().map_err(|e| err(e.to_string()))
}

/// Which layer (highest precedence first) sets the value at a JSON-pointer-like path of
/// segments; used to say which file or flag a schema error comes from.
pub fn layer_setting<'a>(layers: &'a [Layer], path: &[String]) -> Option<&'a Layer> {
    layers.iter().rev().find(|layer| {
        let mut cur: Option<&Value> = None;
        let mut map = Some(&layer.values);
        for seg in path {
            cur = match (cur, map) {
                (None, Some(m)) | (Some(Value::Map(_)), Some(m)) => m.get(seg),
                (Some(Value::List(l)), _) => seg.parse::<usize>().ok().and_then(|i| l.get(i)),
                _ => None,
            };
            map = cur.and_then(Value::as_map);
            if cur.is_none() {
                return false;
            }
        }
        !path.is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// Serves one HTTP response per connection, `count` times, on 127.0.0.1.
    fn serve(status: &'static str, body: &'static str, count: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(count) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn values_files_from_urls() {
        let base = serve("200 OK", "replicas: 3\nimage: {tag: remote}\n", 1);
        let opts = ValueOptions {
            values_files: vec![format!("{base}/values.yaml")],
            set: vec!["image.tag=cli".into()],
            ..Default::default()
        };
        let user = opts.build(Engine::Native, &mut std::io::empty()).unwrap();
        assert_eq!(user.values.get("replicas"), Some(&Value::Int(3)));
        assert_eq!(
            user.values.get("image").and_then(|i| i.get("tag")),
            Some(&Value::from("cli"))
        );
        assert_eq!(user.layers[0].source, format!("-f {base}/values.yaml"));
    }

    #[test]
    fn dash_reads_standard_input_once_for_every_use() {
        let opts = ValueOptions {
            values_files: vec!["-".into()],
            set_file: vec!["raw=-".into()],
            ..Default::default()
        };
        let mut stdin = std::io::Cursor::new("a: 1\n");
        let user = opts.build(Engine::Native, &mut stdin).unwrap();
        assert_eq!(user.values.get("a"), Some(&Value::Int(1)));
        assert_eq!(user.values.get("raw"), Some(&Value::from("a: 1\n")));
    }

    #[test]
    fn url_errors_name_the_address_and_status() {
        let base = serve("404 Not Found", "no", 1);
        let opts = ValueOptions {
            values_files: vec![format!("{base}/missing.yaml")],
            ..Default::default()
        };
        let err = opts.build(Engine::Helm, &mut std::io::empty()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/missing.yaml") && text.contains("404"),
            "{text}"
        );
    }
}
