/** The Deployment: replicas, images, resources, and the digest that rolls pods when their files change. */
import { createHash } from "node:crypto";
import type { Config } from "../../config/schema.js";
import { names } from "./names.js";
import { at, listAt, named } from "./paths.js";
import type { KubeObject } from "./types.js";

/**
 * The registry reads config.yml and the htpasswd file once at start; this digest of both goes into the
 * pod template, so changing either changes the template and rolls the pods.
 */
export function configChecksum(registryConfig: string, htpasswdLine: string): string {
  return createHash("sha256").update(registryConfig).update("\0").update(htpasswdLine).digest("hex");
}

export function applyDeployment(deployment: KubeObject, config: Config, checksum: string): void {
  const { registry } = config;
  const spec = at(deployment, "spec");
  spec.replicas = registry.replicas;

  const template = at(spec, "template");
  at(template, "metadata", "annotations")[names.annotations.configChecksum] = checksum;

  const podSpec = at(template, "spec");
  named(listAt(podSpec, "initContainers"), names.initContainer).image = registry.initImage;

  const container = named(listAt(podSpec, "containers"), names.container);
  container.image = `${registry.image}:${registry.version}`;
  const resources = at(container, "resources");
  Object.assign(at(resources, "requests"), { cpu: registry.cpuRequest, memory: registry.memoryRequest });
  at(resources, "limits").memory = registry.memoryLimit;
}
