//! `pack env`: the directories and environment pack uses, like `helm env`.

use super::{CliResult, GlobalArgs, OutputFormat};
use crate::settings::{self, Dirs};
use crate::value::{Map, Value, yaml};
use clap::Args;

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Print only this variable's value.
    pub name: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn entries(global: &GlobalArgs) -> Vec<(&'static str, String)> {
    let dirs = Dirs::from_env();
    let path = |p: std::path::PathBuf| p.display().to_string();
    let bin = std::env::current_exe()
        .map(path)
        .unwrap_or_else(|_| "pack".into());
    let mut v = vec![
        ("PACK_BIN", bin),
        (settings::ENV_CACHE_HOME, path(dirs.cache.clone())),
        (settings::ENV_CONFIG_HOME, path(dirs.config.clone())),
        (settings::ENV_DATA_HOME, path(dirs.data.clone())),
        ("PACK_DEBUG", global.debug.to_string()),
        (
            "PACK_KUBECONTEXT",
            global.kube_context.clone().unwrap_or_default(),
        ),
        (settings::ENV_NAMESPACE, global.namespace().to_owned()),
        ("PACK_REGISTRY_CONFIG", path(dirs.registry_config())),
        ("PACK_REPOSITORY_CACHE", path(dirs.repository_cache())),
        ("PACK_REPOSITORY_CONFIG", path(dirs.repository_config())),
        (
            "KUBECONFIG",
            global
                .kubeconfig
                .clone()
                .map(path)
                .or_else(|| std::env::var("KUBECONFIG").ok())
                .unwrap_or_default(),
        ),
    ];
    v.sort_by_key(|(k, _)| *k);
    v
}

pub fn run(args: &EnvArgs, global: &GlobalArgs) -> CliResult {
    let all = entries(global);
    if let Some(name) = &args.name {
        // Like `helm env NAME`: the value alone, or nothing for an unknown name.
        if let Some((_, v)) = all.iter().find(|(k, _)| k == name) {
            println!("{v}");
        }
        return Ok(());
    }
    match args.output {
        OutputFormat::Table => {
            for (k, v) in &all {
                println!("{k}={v:?}");
            }
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            let map: Map = all
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::from(v)))
                .collect();
            let map = Value::Map(map);
            if args.output == OutputFormat::Json {
                println!("{}", map.to_json());
            } else {
                print!("{}", yaml::to_string(&map));
            }
        }
    }
    Ok(())
}
