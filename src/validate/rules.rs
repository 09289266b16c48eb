//! Checks the API server makes that the OpenAPI schemas do not say: enumerated fields,
//! int32 ranges, quantity and base64 syntax (patched into the schemas before compiling),
//! and `metadata.name` rules per kind.

use serde_json::{Value as Json, json};

/// Fields the API server restricts to a set of values: (definition, property, values).
/// An empty string is accepted where the server fills in a default.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "io.k8s.api.core.v1.Container",
        "imagePullPolicy",
        &["Always", "Never", "IfNotPresent", ""],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError", ""],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never", ""],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "dnsPolicy",
        &[
            "ClusterFirstWithHostNet",
            "ClusterFirst",
            "Default",
            "None",
            "",
        ],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName", ""],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "externalTrafficPolicy",
        &["Cluster", "Local", ""],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "internalTrafficPolicy",
        &["Cluster", "Local", ""],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "sessionAffinity",
        &["ClientIP", "None", ""],
    ),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "protocol",
        &["TCP", "UDP", "SCTP", ""],
    ),
    (
        "io.k8s.api.core.v1.ServicePort",
        "protocol",
        &["TCP", "UDP", "SCTP", ""],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "operator",
        &["Exists", "Equal", ""],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute", ""],
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
        &["Filesystem", "Block", ""],
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate", ""],
    ),
    (
        "io.k8s.api.apps.v1.DaemonSetUpdateStrategy",
        "type",
        &["RollingUpdate", "OnDelete", ""],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetUpdateStrategy",
        "type",
        &["RollingUpdate", "OnDelete", ""],
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "podManagementPolicy",
        &["OrderedReady", "Parallel", ""],
    ),
    (
        "io.k8s.api.batch.v1.CronJobSpec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace", ""],
    ),
    (
        "io.k8s.api.networking.v1.HTTPIngressPath",
        "pathType",
        &["Exact", "Prefix", "ImplementationSpecific"],
    ),
    (
        "io.k8s.api.autoscaling.v2.MetricSpec",
        "type",
        &[
            "ContainerResource",
            "External",
            "Object",
            "Pods",
            "Resource",
        ],
    ),
    (
        "io.k8s.api.autoscaling.v2.MetricTarget",
        "type",
        &["AverageValue", "Utilization", "Value"],
    ),
];

/// List fields whose items are restricted: (definition, property, values).
const ITEM_ENUMS: &[(&str, &str, &[&str])] = &[(
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
    "accessModes",
    &[
        "ReadWriteOnce",
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOncePod",
    ],
)];

/// The format name pack registers for Kubernetes quantities.
pub const QUANTITY_FORMAT: &str = "k8s-quantity";
/// The format name of base64 bytes in the schemas.
pub const BYTE_FORMAT: &str = "byte";

/// Adds to a kind's self-contained schema (`$defs` by definition name) the constraints the
/// API server enforces beyond it.
pub fn patch(schema: &mut Json) {
    let Some(defs) = schema.get_mut("$defs").and_then(Json::as_object_mut) else {
        return;
    };
    let enum_of = |values: &[&str]| {
        let mut v: Vec<Json> = values.iter().map(|s| json!(s)).collect();
        v.push(Json::Null);
        Json::Array(v)
    };
    for (def, prop, values) in ENUMS {
        if let Some(p) = defs
            .get_mut(*def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
            .and_then(Json::as_object_mut)
        {
            p.insert("enum".into(), enum_of(values));
        }
    }
    for (def, prop, values) in ITEM_ENUMS {
        if let Some(items) = defs
            .get_mut(*def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
            .and_then(|p| p.get_mut("items"))
            .and_then(Json::as_object_mut)
        {
            items.insert("enum".into(), enum_of(values));
        }
    }
    // Quantities: a string must parse; null matches both branches, so `anyOf`.
    if let Some(q) = defs.get_mut("io.k8s.apimachinery.pkg.api.resource.Quantity") {
        *q = json!({"anyOf": [
            {"type": ["string", "null"], "format": QUANTITY_FORMAT},
            {"type": ["number", "null"]},
        ]});
    }
    if let Some(q) = defs.get_mut("io.k8s.apimachinery.pkg.util.intstr.IntOrString") {
        *q = json!({"anyOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]});
    }
    for def in defs.values_mut() {
        int32_ranges(def);
    }
}

/// `format: int32` integers get the int32 range the server's decoder enforces.
fn int32_ranges(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            if map.get("format").and_then(Json::as_str) == Some("int32") {
                map.insert("minimum".into(), json!(i32::MIN));
                map.insert("maximum".into(), json!(i32::MAX));
            }
            for (k, v) in map.iter_mut() {
                if k != "enum" && k != "default" {
                    int32_ranges(v);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(int32_ranges),
        _ => {}
    }
}

/// A Kubernetes quantity as the API server parses it: an optionally signed decimal number,
/// then a binary (`Ki`…`Ei`) or decimal (`n`, `u`, `m`, `k`, `M`…`E`) suffix or an
/// exponent (`e3`, `E-2`).
pub fn is_quantity(s: &str) -> bool {
    let rest = s.strip_prefix(['+', '-']).unwrap_or(s);
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    if number.is_empty()
        || number == "."
        || number.matches('.').count() > 1
        || !number.chars().any(|c| c.is_ascii_digit())
    {
        return false;
    }
    match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti"
        | "Pi" | "Ei" => true,
        exp if exp.starts_with(['e', 'E']) => {
            let digits = exp[1..].strip_prefix(['+', '-']).unwrap_or(&exp[1..]);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// Standard base64 with padding, as Go's `encoding/base64.StdEncoding` decodes `[]byte`
/// fields (white space is not allowed).
pub fn is_base64(s: &str) -> bool {
    s.len().is_multiple_of(4) && crate::funcs::encoding::base64_decode(s.as_bytes()).is_ok()
}

/// Which name rule a kind's `metadata.name` follows on the API server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain: lowercase alphanumerics, `-` and `.`, at most 253.
    Subdomain,
    /// RFC 1123 label: lowercase alphanumerics and `-`, at most 63.
    Label,
    /// RFC 1035 label: a label that starts with a letter.
    Dns1035,
    /// Any path segment: not `.` or `..`, no `/` or `%`.
    PathSegment,
}

/// The rule for a kind (by group and kind), and a length cap some kinds add.
pub fn name_rule(group: &str, kind: &str) -> (NameRule, Option<usize>) {
    match (group, kind) {
        ("", "Namespace") => (NameRule::Label, None),
        ("", "Service") => (NameRule::Dns1035, None),
        ("batch", "CronJob") => (NameRule::Subdomain, Some(52)),
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => (NameRule::PathSegment, None),
        _ => (NameRule::Subdomain, None),
    }
}

/// What is wrong with `name` under `rule` (`None` when it is fine).
pub fn check_name(name: &str, rule: NameRule, cap: Option<usize>) -> Option<String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let problem = match rule {
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                Some(format!("may not be {name:?}"))
            } else if name.contains(['/', '%']) {
                Some("may not contain '/' or '%'".to_owned())
            } else {
                None
            }
        }
        NameRule::Subdomain => {
            if name.len() > 253 {
                Some("must be no more than 253 characters".to_owned())
            } else if !name.split('.').all(label_ok) {
                Some("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".to_owned())
            } else {
                None
            }
        }
        NameRule::Label | NameRule::Dns1035 => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".to_owned())
            } else if !label_ok(name) {
                Some("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".to_owned())
            } else if rule == NameRule::Dns1035
                && !name.starts_with(|c: char| c.is_ascii_lowercase())
            {
                Some("a DNS-1035 label must start with a lowercase letter".to_owned())
            } else {
                None
            }
        }
    };
    problem.or_else(|| {
        cap.filter(|c| name.len() > *c)
            .map(|c| format!("must be no more than {c} characters"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_as_the_server_parses_them() {
        for ok in [
            "1",
            "500m",
            "1.5Gi",
            "0.1",
            "+2",
            "-1",
            "1e3",
            "1E-2",
            "128974848",
            "1k",
            ".5",
        ] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "1x", "Gi", "1.2.3", "1 Gi", "1gi", "1e", "1KiB", "."] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn names_follow_their_kinds_rules() {
        let sub = |n| check_name(n, NameRule::Subdomain, None);
        assert_eq!(sub("web.example-1"), None);
        assert!(sub("Web").is_some());
        assert!(sub("web_1").is_some());
        assert!(sub("-web").is_some());
        assert!(check_name("1web", NameRule::Dns1035, None).is_some());
        assert_eq!(check_name("1web", NameRule::Label, None), None);
        assert!(check_name("a.b", NameRule::Label, None).is_some());
        assert_eq!(
            check_name("system:admin", NameRule::PathSegment, None),
            None
        );
        assert!(check_name("a/b", NameRule::PathSegment, None).is_some());
        assert!(check_name(&"a".repeat(53), NameRule::Subdomain, Some(52)).is_some());
    }
}
