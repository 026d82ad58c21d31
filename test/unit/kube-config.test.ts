/** src/adapters/kube-config.ts: kubeconfigs read as kubectl reads them. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveKubeconfig } from "../../src/adapters/kube-config.js";
import { CredentialsError } from "../../src/errors.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

function config(parts: { current?: string; clusters?: unknown[]; users?: unknown[]; contexts?: unknown[] }) {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": parts.current,
    clusters: parts.clusters ?? [],
    users: parts.users ?? [],
    contexts: parts.contexts ?? [],
  });
}

const cluster = (name: string, server: string, extra: Record<string, unknown> = {}) => ({
  name,
  cluster: { server, ...extra },
});
const context = (name: string, clusterName: string, user: string, namespace?: string) => ({
  name,
  context: { cluster: clusterName, user, ...(namespace ? { namespace } : {}) },
});

describe("resolveKubeconfig", () => {
  it("reads the current context's server, CA, namespace and token", () => {
    const text = config({
      current: "a",
      clusters: [cluster("c", "https://a.example:6443", { "certificate-authority-data": b64("CA PEM") })],
      users: [{ name: "u", user: { token: "t0k3n" } }],
      contexts: [context("a", "c", "u", "team")],
    });
    expect(resolveKubeconfig({ text, env: {} })).toMatchObject({
      context: "a",
      server: "https://a.example:6443",
      ca: "CA PEM",
      namespace: "team",
      token: "t0k3n",
      insecureSkipTlsVerify: false,
    });
  });

  it("merges KUBECONFIG's files as kubectl does: the first to define a name or a current context wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
    const first = join(dir, "first");
    const second = join(dir, "second");
    writeFileSync(
      first,
      config({ clusters: [cluster("c", "https://first")], contexts: [context("x", "c", "u")], users: [] }),
    );
    writeFileSync(
      second,
      config({
        current: "x",
        clusters: [cluster("c", "https://second"), cluster("d", "https://d")],
        users: [{ name: "u", user: { token: "from-second" } }],
        contexts: [context("x", "d", "u"), context("y", "d", "u")],
      }),
    );
    const access = resolveKubeconfig({ env: { KUBECONFIG: `${first}:${second}` } });
    expect(access).toMatchObject({ context: "x", server: "https://first", token: "from-second" });
    expect(resolveKubeconfig({ env: { KUBECONFIG: `${first}:${second}` }, context: "y" }).server).toBe(
      "https://d",
    );
  });

  it("reads certificate files and token files relative to the kubeconfig that names them", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
    mkdirSync(join(dir, "pki"));
    writeFileSync(join(dir, "pki", "ca.crt"), "THE CA");
    writeFileSync(join(dir, "pki", "client.crt"), "THE CERT");
    writeFileSync(join(dir, "pki", "client.key"), "THE KEY");
    const path = join(dir, "config");
    writeFileSync(
      path,
      config({
        current: "a",
        clusters: [cluster("c", "https://a", { "certificate-authority": "pki/ca.crt" })],
        users: [
          {
            name: "u",
            user: {
              "client-certificate": "pki/client.crt",
              "client-key": "pki/client.key",
              tokenFile: "tok",
            },
          },
        ],
        contexts: [context("a", "c", "u")],
      }),
    );
    expect(resolveKubeconfig({ path, env: {} })).toMatchObject({
      ca: "THE CA",
      clientCertificate: "THE CERT",
      clientKey: "THE KEY",
      tokenFile: join(dir, "tok"),
    });
  });

  it("reads an exec plugin as `aws eks update-kubeconfig` writes it", () => {
    const text = config({
      current: "eks",
      clusters: [cluster("arn", "https://ABC.gr7.eu-west-1.eks.amazonaws.com")],
      users: [
        {
          name: "arn",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "aws",
              args: ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"],
              env: [{ name: "AWS_PROFILE", value: "ops" }],
            },
          },
        },
      ],
      contexts: [context("eks", "arn", "arn")],
    });
    expect(resolveKubeconfig({ text, env: {} }).exec).toMatchObject({
      command: "aws",
      args: ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"],
      env: { AWS_PROFILE: "ops" },
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });
  });

  it("fails with exit 4 and the fix: no file, an unknown context, no cluster, a legacy auth-provider", () => {
    const attempt = (source: Parameters<typeof resolveKubeconfig>[0]) => {
      try {
        resolveKubeconfig(source);
      } catch (error) {
        return error as CredentialsError;
      }
      throw new Error("expected a failure");
    };
    const missing = attempt({ path: "/nonexistent/kubeconfig", env: {} });
    expect(missing).toBeInstanceOf(CredentialsError);
    expect(missing.message).toBe("No kubeconfig found at /nonexistent/kubeconfig.");
    const text = config({
      current: "a",
      clusters: [cluster("c", "https://a")],
      users: [{ name: "u", user: { "auth-provider": { name: "gcp" } } }],
      contexts: [context("a", "c", "u"), context("b", "gone", "u")],
    });
    const unknown = attempt({ text, env: {}, context: "nope" });
    expect(unknown.message).toBe("The kubeconfig has no context named nope.");
    expect(unknown.hint).toContain("Use one of: a, b");
    expect(attempt({ text, env: {}, context: "b" }).message).toBe(
      "The kubeconfig has no current context with a cluster.",
    );
    expect(attempt({ text, env: {} }).message).toContain("auth-provider");
    expect(attempt({ text: "- not\n- a map", env: {} }).message).toContain("could not be read");
  });
});
