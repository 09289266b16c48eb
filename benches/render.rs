//! In-process render benchmark: `pack template` of the `pack create` chart, phase by phase
//! (load, values, render, manifests), without process start-up. Run with
//! `cargo bench --bench render`.

use std::time::{Duration, Instant};

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) -> Duration {
    for _ in 0..5 {
        std::hint::black_box(f());
    }
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    println!("{label:28} median {:8.1} µs", median.as_secs_f64() * 1e6);
    median
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A chart directory as argument measures that chart instead of the `pack create` one.
    let chart = match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(path) => std::path::PathBuf::from(path),
        None => pack::chart::create::create(&dir.path().join("demo")).expect("create"),
    };
    let runs = 200;
    time("load chart", runs, || {
        pack::chart::load(&chart).expect("load")
    });
    let values_text = std::fs::read_to_string(chart.join("values.yaml")).expect("values");
    time("  parse values.yaml", runs, || {
        pack::value::yaml::from_str(&values_text, pack::value::yaml::Flavor::Core12).expect("yaml")
    });
    let chart_text = std::fs::read_to_string(chart.join("Chart.yaml")).expect("chart");
    time("  parse Chart.yaml", runs, || {
        pack::value::yaml::from_str(&chart_text, pack::value::yaml::Flavor::Core12).expect("yaml")
    });
    time("  parse empty .helmignore", runs, || {
        pack::chart::ignore::HelmIgnore::parse("")
            .expect("ignore")
            .with_defaults()
    });
    let loaded = pack::chart::load(&chart).expect("load");
    time("compute values", runs, || {
        let mut c = loaded.clone();
        let user = pack::values::UserValues::default();
        pack::values::compute(&mut c, &user, false).expect("values")
    });
    let mut c = loaded.clone();
    let computed =
        pack::values::compute(&mut c, &pack::values::UserValues::default(), false).expect("values");
    let caps = pack::k8s::Capabilities::default();
    let release = pack::render::ReleaseInfo::default();
    let opts = pack::render::RenderOptions::default();
    time("render templates", runs, || {
        pack::render::render(&c, &computed.values, &release, &caps, &opts).expect("render")
    });
    let rendered =
        pack::render::render(&c, &computed.values, &release, &caps, &opts).expect("render");
    time("split and sort manifests", runs, || {
        let (mut m, mut h) = pack::manifest::split(&rendered.files).expect("split");
        pack::manifest::sort_install_order(&mut m);
        pack::manifest::sort_install_order(&mut h);
        (m, h)
    });
    yaml_readers();
    let req = pack::action::TemplateRequest {
        chart: chart.clone(),
        ..Default::default()
    };
    time("whole template action", runs, || {
        pack::action::render_chart(&req, &mut std::io::empty()).expect("template")
    });
}

/// The fast YAML reader against the full parser (serde-saphyr) on a values file and a large
/// rendered output of the shared corpus, when it is beside the project root.
fn yaml_readers() {
    use pack::value::yaml::{self, Flavor};
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let files = [
        (
            "grafana values.yaml",
            corpus.join("charts/grafana/values.yaml"),
        ),
        ("keda output", corpus.join("expected/keda.yaml")),
        ("prometheus output", corpus.join("expected/prometheus.yaml")),
    ];
    for (label, path) in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("{label}: {} not found, skipped", path.display());
            continue;
        };
        let docs: Vec<&str> = text.split("\n---\n").collect();
        let runs = 30;
        let fast = time(&format!("{label} fast"), runs, || {
            docs.iter()
                .filter(|d| yaml::from_str(d, Flavor::Yaml11).is_ok())
                .count()
        });
        let full = time(&format!("{label} full"), runs, || {
            docs.iter()
                .filter(|d| yaml::from_str_full(d, Flavor::Yaml11).is_ok())
                .count()
        });
        println!(
            "{label:28} {} KB: {:.1} vs {:.1} ns/byte, {:.1}x",
            text.len() / 1024,
            fast.as_secs_f64() * 1e9 / text.len() as f64,
            full.as_secs_f64() * 1e9 / text.len() as f64,
            full.as_secs_f64() / fast.as_secs_f64()
        );
    }
}
