/**
 * The registry container's probes speak its protocol: GET / (200 without credentials) over the scheme the
 * registry serves — HTTPS with the private CA, HTTP with tls.mode insecure-http — for readiness and
 * liveness alike, never a bare TCP connect (a port that accepts connections says nothing of the registry).
 */
import { describe, expect, it } from "vitest";
import { renderManifests } from "../../src/core/render/index.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
async function registryContainer(...set: string[]): Promise<any> {
  const objects = await renderManifests(
    configWith("storage.efs.fileSystemId=fs-0123456789abcdef0", ...set),
    credentials,
    tls,
  );
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
  const deployment = objects.find((o) => o.kind === "Deployment") as any;
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
  return deployment.spec.template.spec.containers.find((c: any) => c.name === "registry");
}

describe("the registry's probes", () => {
  it("private-ca: readiness and liveness are GET / over HTTPS on the registry port", async () => {
    const container = await registryContainer();
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: "/", port: "registry", scheme: "HTTPS" });
      expect(probe.tcpSocket).toBeUndefined();
    }
  });

  it("insecure-http: the same probes over HTTP", async () => {
    const container = await registryContainer("tls.mode=insecure-http");
    expect(container.readinessProbe.httpGet).toEqual({ path: "/", port: "registry", scheme: "HTTP" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/", port: "registry", scheme: "HTTP" });
  });
});
