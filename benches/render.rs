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
    let chart = pack::chart::create::create(&dir.path().join("demo")).expect("create");
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
    let req = pack::action::TemplateRequest {
        chart: chart.clone(),
        ..Default::default()
    };
    time("whole template action", runs, || {
        pack::action::render_chart(&req, &mut std::io::empty()).expect("template")
    });
}
