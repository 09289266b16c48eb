//! kube-rs against the embedded API server: discovery (legacy and aggregated), typed and
//! dynamic CRUD, raw watches and the runtime watcher (list+watch and streaming lists).

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope};
use kube::runtime::watcher;
use kube::{Client, Config};
use pack::apiserver::{self, Running};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

async fn server() -> (Running, Client) {
    let running = apiserver::start(apiserver::Config::default())
        .await
        .expect("server");
    let config = Config::new(running.url().parse().expect("uri"));
    let client = Client::try_from(config).expect("client");
    (running, client)
}

fn configmap(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    cm.data = Some(BTreeMap::from([("k".to_string(), "v".to_string())]));
    cm
}

#[tokio::test]
async fn discovery_legacy_and_aggregated() {
    let (running, client) = server().await;
    for aggregated in [false, true] {
        let discovery = Discovery::new(client.clone());
        let discovery = if aggregated {
            discovery.run_aggregated().await
        } else {
            discovery.run().await
        }
        .expect("discovery");
        let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
        let (ar, caps) = discovery
            .resolve_gvk(&gvk)
            .expect("Deployment is discovered");
        assert_eq!(ar.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(
            caps.subresources
                .iter()
                .any(|(s, _)| s.plural == "deployments/scale" || s.plural == "scale")
        );
        let (ns, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
            .expect("Namespace");
        assert_eq!(
            (ns.plural.as_str(), caps.scope),
            ("namespaces", Scope::Cluster)
        );
    }
    running.stop().await;
}

#[tokio::test]
async fn typed_crud() {
    let (running, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &configmap("a", &[("app", "x")]))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    api.create(&PostParams::default(), &configmap("b", &[("app", "y")]))
        .await
        .expect("create");
    let err = api
        .create(&PostParams::default(), &configmap("a", &[]))
        .await
        .expect_err("duplicate");
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "AlreadyExists");
        }
        other => panic!("{other:?}"),
    }
    let mut got = api.get("a").await.expect("get");
    got.data = Some(BTreeMap::from([("k".into(), "changed".into())]));
    let replaced = api
        .replace("a", &PostParams::default(), &got)
        .await
        .expect("replace");
    assert_ne!(
        replaced.metadata.resource_version,
        got.metadata.resource_version
    );
    // The stale copy is refused.
    let stale = api.replace("a", &PostParams::default(), &got).await;
    assert!(matches!(stale, Err(kube::Error::Api(s)) if s.code == 409));
    let listed = api
        .list(&ListParams::default().labels("app=x"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let patched = api
        .patch(
            "b",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": "1"}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(
        patched
            .data
            .as_ref()
            .and_then(|d| d.get("extra"))
            .map(String::as_str),
        Some("1")
    );
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(api.get_opt("a").await.expect("get_opt").is_none());
    // Deployments get the server's defaults.
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .expect("deployment");
    let d = deployments
        .create(&PostParams::default(), &d)
        .await
        .expect("create");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(1));
    assert_eq!(d.metadata.generation, Some(1));
    running.stop().await;
}

#[tokio::test]
async fn dynamic_custom_resources() {
    let (running, client) = server().await;
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    }))
    .expect("crd");
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("crd created");
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (ar, _) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Gadget"))
        .expect("the new kind is discovered at once");
    let gadgets: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Gadget",
        "metadata": {"name": "g1"}, "spec": {"size": 2}
    }))
    .expect("cr");
    gadgets
        .create(&PostParams::default(), &obj)
        .await
        .expect("cr created");
    let got = gadgets.get("g1").await.expect("get");
    assert_eq!(got.data["spec"]["size"], 2);
    // Strategic merge patch is refused for custom resources, as by the real server.
    let smp = gadgets
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 3}})),
        )
        .await;
    assert!(matches!(smp, Err(kube::Error::Api(s)) if s.code == 415));
    running.stop().await;
}

#[tokio::test]
async fn raw_watch_and_runtime_watchers() {
    let (running, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &configmap("w0", &[]))
        .await
        .expect("create");
    let mut stream = api
        .watch(&WatchParams::default().timeout(20), "0")
        .await
        .expect("watch")
        .boxed();
    let first = stream.try_next().await.expect("event").expect("some");
    assert!(
        matches!(first, WatchEvent::Added(ref cm) if cm.metadata.name.as_deref() == Some("w0"))
    );
    api.patch(
        "w0",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .expect("patch");
    let second = stream.try_next().await.expect("event").expect("some");
    assert!(matches!(second, WatchEvent::Modified(_)), "{second:?}");
    // The runtime watcher, both with list+watch and with streaming lists (WatchList).
    for config in [
        watcher::Config::default(),
        watcher::Config::default().streaming_lists(),
    ] {
        let mut events = watcher(api.clone(), config).boxed();
        let mut init_done = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !init_done {
            let event = tokio::time::timeout_at(deadline, events.try_next())
                .await
                .expect("initial list in time")
                .expect("no error")
                .expect("event");
            init_done = matches!(event, watcher::Event::InitDone);
        }
        let name = format!("w-{}", rand_suffix());
        api.create(&PostParams::default(), &configmap(&name, &[]))
            .await
            .expect("create");
        loop {
            let event = tokio::time::timeout_at(deadline, events.try_next())
                .await
                .expect("apply event in time")
                .expect("no error")
                .expect("event");
            if let watcher::Event::Apply(cm) = event
                && cm.metadata.name.as_deref() == Some(name.as_str())
            {
                break;
            }
        }
    }
    running.stop().await;
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

#[tokio::test]
async fn server_side_apply_and_strategic_patch() {
    let (running, client) = server().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let config = |replicas: i64, image: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ssa"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": image}]}}}
        })
    };
    let created = api
        .patch(
            "ssa",
            &PatchParams::apply("pack"),
            &Patch::Apply(config(1, "x:1")),
        )
        .await
        .expect("apply creates");
    assert_eq!(created.spec.as_ref().and_then(|s| s.replicas), Some(1));
    // A second manager applying a different replica count conflicts…
    let conflict = api
        .patch(
            "ssa",
            &PatchParams::apply("other"),
            &Patch::Apply(config(5, "x:1")),
        )
        .await;
    match conflict {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 409);
            assert!(
                s.message.contains("conflict with \"pack\""),
                "{}",
                s.message
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // …and takes it over with force.
    let forced = api
        .patch(
            "ssa",
            &PatchParams::apply("other").force(),
            &Patch::Apply(config(5, "x:1")),
        )
        .await
        .expect("forced");
    assert_eq!(forced.spec.as_ref().and_then(|s| s.replicas), Some(5));
    // Strategic merge adds a container by name, keeping the first.
    let patched = api
        .patch(
            "ssa",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "d", "image": "y"}]}}}})),
        )
        .await
        .expect("strategic");
    let names: Vec<String> = patched
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.containers.into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    assert_eq!(names, ["c", "d"]);
    running.stop().await;
}
