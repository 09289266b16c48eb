//! `Capabilities` offline: Kubernetes version, Helm version and the API versions list that
//! Helm 4.1.4 exposes to templates when no cluster is consulted.

use super::KubeVersion;

/// The group-versions Helm 4.1.4 lists offline, in Helm's order (`range` prints them so).
pub const HELM_OFFLINE_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm's version as templates see it (`Capabilities.HelmVersion`): pack renders charts the
/// way this Helm release does, so charts that test it take the same branch.
pub const HELM_VERSION: &str = "v4.1.4";
/// The Git commit of that Helm release.
pub const HELM_GIT_COMMIT: &str = "05fa37973dc9e42b76e1d2883494c87174b6074f";
/// The Go version that Helm release was built with.
pub const HELM_GO_VERSION: &str = "go1.25.9";

/// What templates may ask about the target cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The Kubernetes version (`--kube-version`, or the cluster's).
    pub kube_version: KubeVersion,
    /// Group-versions, and `group/version/Kind` entries when read from a live cluster.
    pub api_versions: Vec<String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::offline(KubeVersion::default(), &[])
    }
}

impl Capabilities {
    /// Helm's offline capabilities for `kube_version`, plus `extra` API versions given with
    /// `--api-versions` (comma-separated entries are split; duplicates are not repeated).
    pub fn offline(kube_version: KubeVersion, extra: &[String]) -> Self {
        let mut api_versions: Vec<String> = HELM_OFFLINE_API_VERSIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for entry in extra.iter().flat_map(|e| e.split(',')) {
            let entry = entry.trim();
            if !entry.is_empty() && !api_versions.iter().any(|a| a == entry) {
                api_versions.push(entry.to_owned());
            }
        }
        Capabilities {
            kube_version,
            api_versions,
        }
    }

    /// `Capabilities.APIVersions.Has`: an exact match on a group-version (`apps/v1`) or, when
    /// the list holds them, a `group/version/Kind` entry.
    pub fn has_api_version(&self, api_version: &str) -> bool {
        self.api_versions.iter().any(|a| a == api_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_list_is_helms() {
        let caps = Capabilities::default();
        assert_eq!(caps.api_versions.len(), 57);
        assert_eq!(caps.api_versions[0], "v1");
        assert_eq!(caps.api_versions[56], "apiextensions.k8s.io/v1");
        assert_eq!(caps.kube_version.to_string(), "v1.35.0");
    }

    #[test]
    fn has_matches_group_versions_only_offline() {
        let caps = Capabilities::default();
        assert!(caps.has_api_version("apps/v1"));
        assert!(caps.has_api_version("v1"));
        assert!(!caps.has_api_version("apps/v1/Deployment"));
        assert!(!caps.has_api_version("v1/Pod"));
        assert!(!caps.has_api_version("monitoring.coreos.com/v1"));
    }

    #[test]
    fn api_versions_flag_adds_entries() {
        let caps = Capabilities::offline(
            KubeVersion::parse("1.31").unwrap(),
            &[
                "monitoring.coreos.com/v1,cert-manager.io/v1".to_owned(),
                "apps/v1".to_owned(),
                "monitoring.coreos.com/v1/ServiceMonitor".to_owned(),
            ],
        );
        assert!(caps.has_api_version("monitoring.coreos.com/v1"));
        assert!(caps.has_api_version("cert-manager.io/v1"));
        assert!(caps.has_api_version("monitoring.coreos.com/v1/ServiceMonitor"));
        assert_eq!(caps.api_versions.len(), 60, "apps/v1 is not listed twice");
        // --kube-version changes only the version, never the list.
        assert_eq!(caps.kube_version.minor, 31);
    }
}
