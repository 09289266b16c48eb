//! The resources the server serves: the built-in table for one Kubernetes version plus the
//! custom resources of established CRDs, looked up by URL and listed for discovery.

use crate::k8s::KubeVersion;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// The built-in resource table: one row per served (apiVersion, kind), made by research
/// into kube-apiserver's registry (see the header of the file for its columns).
static TABLE: &str = include_str!("resources.tsv");

/// A subresource such as `status` or `scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subresource {
    /// `status`, `scale`, `log`…
    pub name: String,
    /// Kind of its objects (`Scale` for scale; the parent's kind for status).
    pub kind: String,
    /// Group/version of that kind when it differs from the parent's (`autoscaling/v1` Scale).
    pub api_version: Option<String>,
    /// Verbs, as discovery lists them.
    pub verbs: Vec<String>,
}

/// What a custom resource carries from its CRD.
#[derive(Debug, Clone, PartialEq)]
pub struct Custom {
    /// `<plural>.<group>`, the CRD's name.
    pub crd: String,
    /// The version's `openAPIV3Schema`, if any.
    pub schema: Option<Json>,
    /// `.spec.replicasPath` etc. when the scale subresource is on.
    pub scale: Option<ScalePaths>,
    /// The version objects are stored in.
    pub storage_version: String,
}

/// The JSON paths of a custom resource's scale subresource.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    /// e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// e.g. `.status.replicas`.
    pub status_replicas: String,
    /// e.g. `.status.labelSelector`.
    pub label_selector: Option<String>,
}

/// One served resource at one group/version.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: String,
    /// Version within the group (`v1`).
    pub version: String,
    /// Kind of its objects.
    pub kind: String,
    /// Kind of its lists (`<Kind>List` for built-ins).
    pub list_kind: String,
    /// Plural, the URL segment.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Verbs, as discovery lists them.
    pub verbs: Vec<String>,
    /// Short names (`cm`, `deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources.
    pub subresources: Vec<Subresource>,
    /// Set for custom resources.
    pub custom: Option<Custom>,
}

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The storage identity shared by all versions of a resource: `group/plural`.
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// Whether the verb is served.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether a `status` subresource exists (main writes then keep the stored status).
    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }

    /// The named subresource.
    pub fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the server maintains `metadata.generation` for these objects.
    pub fn tracks_generation(&self) -> bool {
        if self.custom.is_some() {
            return true;
        }
        matches!(
            (self.group.as_str(), self.plural.as_str()),
            ("apps", _)
                | ("batch", _)
                | ("autoscaling", _)
                | ("policy", "poddisruptionbudgets")
                | ("networking.k8s.io", "ingresses" | "networkpolicies")
                | ("apiextensions.k8s.io", _)
                | ("", "replicationcontrollers" | "pods")
                | ("admissionregistration.k8s.io", _)
                | ("flowcontrol.apiserver.k8s.io", _)
                | ("resource.k8s.io", _)
        )
    }
}

/// A group and its served versions, preferred first.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Group name; empty for core.
    pub name: String,
    /// Versions, preferred first.
    pub versions: Vec<String>,
}

/// Every resource the server serves, indexed by URL.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    resources: Vec<Arc<Resource>>,
    by_url: HashMap<(String, String, String), usize>,
    groups: Vec<Group>,
}

/// Kubernetes' version priority: GA > beta > alpha, then by number.
fn version_rank(v: &str) -> (u8, u32, u32) {
    let rest = v.strip_prefix('v').unwrap_or(v);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stability, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stability, major, minor)
}

fn list(field: &str) -> Vec<String> {
    if field == "-" || field.is_empty() {
        Vec::new()
    } else {
        field.split(',').map(str::to_string).collect()
    }
}

/// Whether a table row's `default` column serves it at this minor version.
fn served_in(column: &str, minor: &str) -> bool {
    match column {
        "1" => true,
        "0" => false,
        list => list.split(',').any(|m| m == minor),
    }
}

fn sub_verbs(name: &str) -> Vec<String> {
    let verbs: &[&str] = match name {
        "status" | "scale" => &["get", "patch", "update"],
        "log" => &["get"],
        "exec" | "attach" | "portforward" => &["create", "get"],
        "proxy" => &["create", "delete", "get", "patch", "update"],
        "ephemeralcontainers" | "resize" => &["get", "patch", "update"],
        "finalize" => &["update"],
        "approval" => &["get", "patch", "update"],
        _ => &["create"],
    };
    verbs.iter().map(|v| v.to_string()).collect()
}

impl Registry {
    /// The built-in resources Kubernetes `version` serves by default.
    pub fn builtin(version: &KubeVersion) -> Registry {
        let minor = format!("{}.{}", version.major, version.minor);
        let schemas = crate::k8s::Schemas::for_version(version).ok();
        let mut registry = Registry::default();
        for line in TABLE.lines() {
            if line.starts_with('#') || line.starts_with("apiVersion\t") || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 10 || !served_in(cols[9], &minor) {
                continue;
            }
            // A row applies only to the releases whose schemas have the kind.
            if schemas.is_some_and(|s| !s.has_kind(cols[0], cols[1])) {
                continue;
            }
            let (group, ver) = match cols[0].split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), cols[0].to_string()),
            };
            let subresources = list(cols[8])
                .into_iter()
                .map(|s| {
                    let (name, kind) = match s.split_once(':') {
                        Some((n, k)) => (n.to_string(), k.to_string()),
                        None => (s.clone(), cols[1].to_string()),
                    };
                    let api_version = match kind.as_str() {
                        "Scale" => Some("autoscaling/v1".to_string()),
                        "Eviction" => Some("policy/v1".to_string()),
                        "TokenRequest" => Some("authentication.k8s.io/v1".to_string()),
                        _ => None,
                    };
                    Subresource {
                        verbs: sub_verbs(&name),
                        name,
                        kind,
                        api_version,
                    }
                })
                .collect();
            registry.add(Resource {
                group,
                version: ver,
                kind: cols[1].to_string(),
                list_kind: format!("{}List", cols[1]),
                plural: cols[2].to_string(),
                singular: cols[3].to_string(),
                namespaced: cols[4] == "N",
                verbs: list(cols[5]),
                short_names: list(cols[6]),
                categories: list(cols[7]),
                subresources,
                custom: None,
            });
        }
        registry
    }

    /// Adds a resource (replacing one at the same URL).
    pub fn add(&mut self, resource: Resource) {
        let key = (
            resource.group.clone(),
            resource.version.clone(),
            resource.plural.clone(),
        );
        match self.groups.iter_mut().find(|g| g.name == resource.group) {
            Some(group) => {
                if !group.versions.contains(&resource.version) {
                    group.versions.push(resource.version.clone());
                    group
                        .versions
                        .sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
                }
            }
            None => self.groups.push(Group {
                name: resource.group.clone(),
                versions: vec![resource.version.clone()],
            }),
        }
        match self.by_url.get(&key) {
            Some(&i) => self.resources[i] = Arc::new(resource),
            None => {
                self.by_url.insert(key, self.resources.len());
                self.resources.push(Arc::new(resource));
            }
        }
    }

    /// Adds the served versions of a CRD object (which must be valid).
    pub fn add_crd(&mut self, crd: &Json) {
        for resource in crd_resources(crd) {
            self.add(resource);
        }
    }

    /// The resource at `/apis/<group>/<version>/<plural>`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&Arc<Resource>> {
        self.by_url
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .map(|&i| &self.resources[i])
    }

    /// The resource serving a kind at an apiVersion.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.api_version() == api_version)
    }

    /// The version objects of a resource (group/plural) are stored at: the preferred one.
    pub fn preferred(&self, group: &str, plural: &str) -> Option<&Arc<Resource>> {
        let versions = &self.groups.iter().find(|g| g.name == group)?.versions;
        versions.iter().find_map(|v| self.get(group, v, plural))
    }

    /// Groups in discovery order (core first), versions preferred first.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Resources of one group/version, in table order.
    pub fn resources_of<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Resource>> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.group == group && r.version == version)
    }

    /// Every resource.
    pub fn all(&self) -> &[Arc<Resource>] {
        &self.resources
    }

    /// Whether a group/version is served.
    pub fn serves(&self, group: &str, version: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.name == group && g.versions.iter().any(|v| v == version))
    }
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The resources one CRD object serves (one per served version).
pub fn crd_resources(crd: &Json) -> Vec<Resource> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let group = spec["group"].as_str().unwrap_or_default().to_string();
    let plural = names["plural"].as_str().unwrap_or_default().to_string();
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    let singular = names["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = names["listKind"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{kind}List"));
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    let storage_version = versions
        .iter()
        .find(|v| v["storage"].as_bool() == Some(true))
        .and_then(|v| v["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let crd_name = crd["metadata"]["name"].as_str().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool() != Some(false))
        .map(|v| {
            let subs = &v["subresources"];
            let mut subresources = Vec::new();
            if subs.get("status").is_some() {
                subresources.push(Subresource {
                    name: "status".into(),
                    kind: kind.clone(),
                    api_version: None,
                    verbs: sub_verbs("status"),
                });
            }
            let scale = subs.get("scale").map(|s| ScalePaths {
                spec_replicas: s["specReplicasPath"]
                    .as_str()
                    .unwrap_or(".spec.replicas")
                    .to_string(),
                status_replicas: s["statusReplicasPath"]
                    .as_str()
                    .unwrap_or(".status.replicas")
                    .to_string(),
                label_selector: s["labelSelectorPath"].as_str().map(str::to_string),
            });
            if scale.is_some() {
                subresources.push(Subresource {
                    name: "scale".into(),
                    kind: "Scale".into(),
                    api_version: Some("autoscaling/v1".into()),
                    verbs: sub_verbs("scale"),
                });
            }
            Resource {
                group: group.clone(),
                version: v["name"].as_str().unwrap_or_default().to_string(),
                kind: kind.clone(),
                list_kind: list_kind.clone(),
                plural: plural.clone(),
                singular: singular.clone(),
                namespaced,
                verbs: [
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "create",
                    "update",
                    "watch",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                short_names: strings(&names["shortNames"]),
                categories: strings(&names["categories"]),
                subresources,
                custom: Some(Custom {
                    crd: crd_name.to_string(),
                    schema: v
                        .get("schema")
                        .and_then(|s| s.get("openAPIV3Schema"))
                        .cloned(),
                    scale,
                    storage_version: storage_version.clone(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::builtin(&KubeVersion::default())
    }

    #[test]
    fn core_and_apps_are_served() {
        let r = registry();
        let cm = r.get("", "v1", "configmaps").expect("configmaps");
        assert_eq!(cm.kind, "ConfigMap");
        assert!(cm.namespaced);
        assert!(cm.short_names.contains(&"cm".to_string()));
        let deploy = r.get("apps", "v1", "deployments").expect("deployments");
        assert!(deploy.has_status());
        assert!(deploy.subresource("scale").is_some());
        assert!(deploy.categories.contains(&"all".to_string()));
        let ns = r.get("", "v1", "namespaces").expect("namespaces");
        assert!(!ns.namespaced);
        assert_eq!(r.groups()[0].name, "");
    }

    #[test]
    fn versions_are_ordered_by_priority() {
        let mut ranks = ["v1beta1", "v1", "v2", "v1alpha1", "v2beta2"];
        ranks.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
        assert_eq!(ranks, ["v2", "v1", "v2beta2", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn a_crd_adds_its_served_versions() {
        let crd: Json = serde_json::json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                    {"name": "v0", "served": false, "storage": false}
                ]
            }
        });
        let mut r = registry();
        r.add_crd(&crd);
        let w = r.get("example.com", "v1", "widgets").expect("served");
        assert!(w.has_status());
        assert_eq!(w.list_kind, "WidgetList");
        assert!(r.get("example.com", "v0", "widgets").is_none());
        assert_eq!(
            r.preferred("example.com", "widgets")
                .map(|r| r.version.as_str()),
            Some("v1")
        );
    }
}
