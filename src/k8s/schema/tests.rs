use super::*;

fn schemas(v: &str) -> Schemas {
    Schemas::for_version(&KubeVersion::parse(v).unwrap()).unwrap()
}

#[test]
fn bundle_covers_1_31_to_1_37() {
    let all = bundled_versions().unwrap();
    assert_eq!(
        all,
        ["1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]
    );
    assert_eq!(bundle_source().unwrap(), "kubernetes-validate==1.37.0");
    // A patch level or provider suffix selects its minor release.
    assert_eq!(schemas("v1.35.7-gke.1").release(), "1.35");
}

#[test]
fn unsupported_versions_say_what_is_bundled() {
    let err = Schemas::for_version(&KubeVersion::parse("1.29").unwrap()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("1.29") && text.contains("1.31–1.37"),
        "{text}"
    );
}

#[test]
fn kinds_exist_per_version() {
    let s131 = schemas("1.31");
    let s137 = schemas("1.37");
    for s in [&s131, &s137] {
        assert!(s.has_kind("apps/v1", "Deployment"));
        assert!(s.has_kind("v1", "ConfigMap"));
        assert!(s.has_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition"));
        assert!(!s.has_kind("extensions/v1beta1", "Deployment"));
        assert!(!s.has_kind("apps/v1", "Pod"));
        // Meta types listed under every group are not kinds.
        assert!(!s.has_kind("apps/v1", "DeleteOptions"));
    }
    // resource.k8s.io/v1 arrived in 1.34.
    assert!(!s131.has_kind("resource.k8s.io/v1", "ResourceClaim"));
    assert!(s137.has_kind("resource.k8s.io/v1", "ResourceClaim"));
    assert!(schemas("1.34").has_kind("resource.k8s.io/v1", "DeviceClass"));
    // flowcontrol v1beta3 was removed after 1.31.
    assert!(s131.has_kind("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"));
    assert!(!s137.has_kind("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"));
    assert!(s137.kinds("apps/v1").contains(&"StatefulSet"));
    assert!(s137.api_versions().contains(&"batch/v1"));
}

#[test]
fn definitions_keep_facts_not_prose() {
    let s = schemas("1.35");
    let name = s.definition_name("apps/v1", "Deployment").unwrap();
    assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
    let def = s.definition(name).unwrap().unwrap();
    assert!(def.get("description").is_none());
    assert_eq!(
        def["x-kubernetes-group-version-kind"][0]["kind"],
        serde_json::json!("Deployment")
    );
    let pod_spec = s.definition("io.k8s.api.core.v1.PodSpec").unwrap().unwrap();
    assert_eq!(pod_spec["required"], serde_json::json!(["containers"]));
}

#[test]
fn deployment_gained_required_spec_in_1_37() {
    let required = |v: &str| {
        let s = schemas(v);
        s.definition("io.k8s.api.apps.v1.Deployment")
            .unwrap()
            .unwrap()
            .get("required")
            .cloned()
    };
    assert_eq!(required("1.36"), None);
    assert_eq!(required("1.37"), Some(serde_json::json!(["spec"])));
}

#[test]
fn self_contained_schema_of_a_kind() {
    let s = schemas("1.35");
    let schema = s.schema("apps/v1", "Deployment").unwrap().unwrap();
    assert_eq!(schema["$ref"], "#/$defs/io.k8s.api.apps.v1.Deployment");
    let defs = schema["$defs"].as_object().unwrap();
    for needed in [
        "io.k8s.api.apps.v1.DeploymentSpec",
        "io.k8s.api.core.v1.Container",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    ] {
        assert!(
            defs.contains_key(needed),
            "{needed} reachable from Deployment"
        );
    }
    assert!(!defs.contains_key("io.k8s.api.batch.v1.JobSpec"));
    assert_eq!(s.schema("apps/v1", "NoSuchKind").unwrap(), None);
}

#[test]
fn int_or_string_and_formats_are_kept() {
    let s = schemas("1.35");
    let port = s
        .field_schema("v1", "Service", &["spec", "ports", "targetPort"])
        .unwrap()
        .unwrap();
    assert_eq!(
        port["$ref"],
        "#/$defs/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    );
    let ios = s
        .definition("io.k8s.apimachinery.pkg.util.intstr.IntOrString")
        .unwrap()
        .unwrap();
    assert!(ios.get("oneOf").is_some(), "{ios}");
}

#[test]
fn merge_metadata_of_paths() {
    let s = schemas("1.35");
    let containers = s
        .merge_info(
            "apps/v1",
            "Deployment",
            &["spec", "template", "spec", "containers"],
        )
        .unwrap()
        .unwrap();
    assert_eq!(containers.patch_strategies, ["merge"]);
    assert_eq!(containers.patch_merge_key.as_deref(), Some("name"));
    assert_eq!(containers.list_type.as_deref(), Some("map"));
    assert_eq!(containers.list_map_keys, ["name"]);

    // Through a list item: a container's env merges by name, ports by containerPort+protocol.
    let env = s
        .merge_info("v1", "Pod", &["spec", "containers", "env"])
        .unwrap()
        .unwrap();
    assert_eq!(env.patch_merge_key.as_deref(), Some("name"));
    let ports = s
        .merge_info("v1", "Pod", &["spec", "containers", "ports"])
        .unwrap()
        .unwrap();
    assert_eq!(ports.list_map_keys, ["containerPort", "protocol"]);

    // Atomic lists, retainKeys strategies and maps of values.
    let tolerations = s
        .merge_info("v1", "Pod", &["spec", "tolerations"])
        .unwrap()
        .unwrap();
    assert_eq!(tolerations.list_type.as_deref(), Some("atomic"));
    let volumes = s
        .merge_info("v1", "Pod", &["spec", "volumes"])
        .unwrap()
        .unwrap();
    assert_eq!(volumes.patch_strategies, ["merge", "retainKeys"]);
    let labels = s
        .field_schema("v1", "Pod", &["metadata", "labels", "app"])
        .unwrap()
        .unwrap();
    assert!(has_type(&labels, "string"), "a label value: {labels}");

    assert_eq!(
        s.merge_info("v1", "Pod", &["spec", "noSuchField"]).unwrap(),
        None
    );
}

#[test]
fn versions_share_unchanged_definitions() {
    // Identical definitions are stored once: same blob, same Arc.
    let a = schemas("1.33")
        .definition("io.k8s.api.core.v1.ConfigMap")
        .unwrap()
        .unwrap();
    let b = schemas("1.34")
        .definition("io.k8s.api.core.v1.ConfigMap")
        .unwrap()
        .unwrap();
    assert!(Arc::ptr_eq(&a, &b));
}
