/**
 * moto 5.2.6 has no EKS DescribeClusterVersions (`GET /cluster-versions`): it answers 404 with an HTML
 * page. Both eksctl (to resolve and check `metadata.version`) and clouddrove (`cluster create`'s
 * preflight) call it before anything else. This proxy, in front of moto, answers that one operation in
 * EKS's shape (REST-JSON, dates in epoch seconds) and passes every other request to moto unchanged, so
 * the rest of what both tools ask is answered by the emulator itself.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** The minors answered, oldest first; the one before the newest is the default, as on EKS. */
export const PROXY_EKS_VERSIONS = ["1.31", "1.32", "1.33", "1.34"] as const;

const DAY = 86_400;
const NOW = Math.floor(Date.UTC(2026, 11, 1) / 1000);

function clusterVersions() {
  return PROXY_EKS_VERSIONS.map((version, i) => ({
    clusterVersion: version,
    clusterType: "eks",
    defaultPlatformVersion: "eks.9",
    defaultVersion: i === PROXY_EKS_VERSIONS.length - 2,
    releaseDate: NOW - (PROXY_EKS_VERSIONS.length - i) * 120 * DAY,
    endOfStandardSupportDate: NOW + (i + 1) * 120 * DAY,
    endOfExtendedSupportDate: NOW + (i + 1) * 120 * DAY + 365 * DAY,
    status: "standard-support",
    versionStatus: "STANDARD_SUPPORT",
    kubernetesPatchVersion: `${version}.4`,
  }));
}

export interface EksVersionsProxy {
  /** e.g. http://127.0.0.1:40123: use it as AWS_ENDPOINT_URL for every service. */
  endpoint: string;
  /** Every request seen, "METHOD PATH service", in order (what a tool asked of AWS). */
  requests: string[];
  stop(): Promise<void>;
}

/** Starts the proxy on a free loopback port in front of moto's `upstream` (http://127.0.0.1:PORT). */
export async function startEksVersionsProxy(upstream: string): Promise<EksVersionsProxy> {
  const target = new URL(upstream);
  const requests: string[] = [];
  const server = createServer((incoming, answer) => {
    // The service is the signing name in the SigV4 credential scope: .../REGION/SERVICE/aws4_request.
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(
      incoming.headers.authorization ?? "",
    )?.[1];
    requests.push(`${incoming.method} ${incoming.url} ${service ?? "-"}`);
    if (service === "eks" && incoming.method === "GET" && incoming.url?.startsWith("/cluster-versions")) {
      incoming.resume();
      answer.writeHead(200, { "content-type": "application/json" });
      answer.end(JSON.stringify({ clusterVersions: clusterVersions() }));
      return;
    }
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      },
    );
    forward.on("error", (error) => {
      answer.writeHead(502, { "content-type": "text/plain" });
      answer.end(`moto did not answer: ${error.message}`);
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
