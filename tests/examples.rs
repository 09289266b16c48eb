//! The charts shipped in `charts/` render, lint clean, and behave as their values say.

use std::path::Path;
use std::process::Command;

fn pack(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pack"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("PACK_COLOR", "never")
        .output()
        .expect("pack runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_example_renders_and_lints() {
    for chart in ["charts/hello-world", "charts/webapp", "charts/shop"] {
        let (ok, out, err) = pack(&["template", "demo", chart]);
        assert!(ok, "{chart}: {err}");
        assert!(out.contains("kind: Deployment"), "{chart}:\n{out}");
        let (ok, out, err) = pack(&["lint", "--strict", chart]);
        assert!(ok, "{chart}: {out}{err}");
    }
}

#[test]
fn shop_subcharts_follow_conditions_and_globals() {
    let (ok, out, _) = pack(&["template", "demo", "charts/shop"]);
    assert!(ok);
    assert!(out.contains("image: registry.example.com/shop-api:2.3.0"));
    assert!(out.contains("shop.example.com/environment: staging"));
    assert!(out.contains("value: \"orders\""), "{out}");
    let (_, out, _) = pack(&[
        "template",
        "demo",
        "charts/shop",
        "--set",
        "worker.enabled=false",
    ]);
    assert!(!out.contains("shop/charts/worker/"), "{out}");
    let (_, out, _) = pack(&[
        "template",
        "demo",
        "charts/shop",
        "--set",
        "global.imageRegistry=mirror.local",
    ]);
    assert!(
        out.contains("image: mirror.local/shop-worker:2.3.0"),
        "{out}"
    );
}

#[test]
fn webapp_schema_and_config_checksum() {
    let (ok, _, err) = pack(&[
        "template",
        "demo",
        "charts/webapp",
        "--set",
        "service.port=70000",
    ]);
    assert!(!ok);
    assert!(
        err.contains("/service/port") && err.contains("set by --set service.port=70000"),
        "{err}"
    );
    let checksum = |args: &[&str]| {
        let mut all = vec!["template", "demo", "charts/webapp"];
        all.extend_from_slice(args);
        let (_, out, _) = pack(&all);
        out.lines()
            .find(|l| l.contains("checksum/config"))
            .map(str::to_owned)
            .expect("checksum annotation")
    };
    assert_eq!(checksum(&[]), checksum(&[]));
    assert_ne!(
        checksum(&[]),
        checksum(&["--set", "config.LOG_LEVEL=debug"])
    );
}
