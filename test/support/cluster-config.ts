/**
 * The ClusterConfig clouddrove renders from its template for an example cluster (eu-west-1, three zones,
 * Kubernetes 1.33, m6i.large), with any of those values replaced.
 */
import { type ClusterValues, renderClusterConfig } from "../../src/core/cluster/cluster-config.js";
import { readClusterTemplate } from "../../src/steps/cluster/templates.js";

export function renderExampleClusterConfig(values: Partial<ClusterValues> = {}) {
  return renderClusterConfig(readClusterTemplate(), {
    name: "clouddrove",
    region: "eu-west-1",
    zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    kubernetesVersion: "1.33",
    instanceType: "m6i.large",
    ...values,
  });
}
