/**
 * The sandbox's Kubernetes API server: HTTPS on 127.0.0.1 (self-signed certificate), JSON only (clients that prefer protobuf
 * accept JSON answers), a static bearer token, discovery and OpenAPI, the resource verbs and
 * subresources, watches, injected faults, and the /sandbox/v1 admin API.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { handleAdmin } from "./api/admin.js";
import type { TlsMaterial } from "./api/certificate.js";
import {
  apiGroup,
  apiGroupList,
  apiVersions,
  openapiGroupVersion,
  openapiRoot,
  resourceList,
  versionInfo,
} from "./api/discovery.js";
import {
  handleCreate,
  handleDelete,
  handleDeleteCollection,
  handleGet,
  handleList,
  handlePatch,
  handleUpdate,
  type RequestContext,
  wantsTable,
} from "./api/handlers.js";
import {
  isWatch,
  notFoundPath,
  parseResourcePath,
  type ResourceRoute,
  readBody,
  sendError,
  sendJson,
  verbOf,
} from "./api/http.js";
import { handleBinding, handleEviction, handleScale, podLog } from "./api/subresources.js";
import { toTable } from "./api/tables.js";
import { WatchStreams } from "./api/watch-stream.js";
import { type FaultDecision, FaultInjector, reasonForStatus } from "./faults.js";
import { refuseUpgrade, type SandboxRuntime } from "./runtime/index.js";
import type { MemoryStore } from "./store.js";
import { ApiError, type SandboxClock } from "./types.js";

export interface ApiServerOptions {
  store: MemoryStore;
  clock: Pick<SandboxClock, "now">;
  /** The only bearer token accepted (401 otherwise). */
  token: string;
  /** The server's certificate and key (kubectl sends a bearer token only over TLS). */
  tls: TlsMaterial;
  /** The control plane's minor, or where to read it now (it changes when the control plane is upgraded). */
  kubernetesVersion?: string | (() => string);
  faults?: FaultInjector;
  /** 0 or undefined: any free port. */
  port?: number;
  /** The real runtime: serves pods/portforward and the logs of real containers (pods/log). */
  runtime?: Pick<SandboxRuntime, "portForward" | "podLog">;
}

export interface ApiServer {
  /** e.g. https://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly faults: FaultInjector;
  close(): Promise<void>;
}

/** Paths a real cluster serves without credentials (system:public-info-viewer). */
const PUBLIC_PATHS = new Set(["/version", "/healthz", "/readyz", "/livez"]);

function discovery(path: string, serverAddress: string, kubernetesVersion: string): unknown {
  if (path === "/version") return versionInfo(kubernetesVersion);
  if (path === "/api") return apiVersions(serverAddress);
  if (path === "/apis") return apiGroupList();
  if (path === "/openapi/v3") return openapiRoot();
  let match = /^\/api\/([^/]+)$/.exec(path);
  if (match) return resourceList("", match[1]!);
  match = /^\/apis\/([^/]+)$/.exec(path);
  if (match) return apiGroup(match[1]!);
  match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (match) return resourceList(match[1]!, match[2]!);
  match = /^\/openapi\/v3\/api\/([^/]+)$/.exec(path);
  if (match) return openapiGroupVersion("", match[1]!);
  match = /^\/openapi\/v3\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (match) return openapiGroupVersion(match[1]!, match[2]!);
  return undefined;
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, clock, token } = options;
  const version = options.kubernetesVersion ?? "1.33";
  const kubernetesVersion = typeof version === "function" ? version : () => version;
  const faults = options.faults ?? new FaultInjector();
  const watches = new WatchStreams();
  let serverAddress = "127.0.0.1:0";

  const serveResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: ResourceRoute,
    query: URLSearchParams,
    decision: FaultDecision,
  ) => {
    const method = req.method ?? "GET";
    const contentType = String(req.headers["content-type"] ?? "");
    if (/protobuf|cbor/.test(contentType)) {
      // kubectl's generators (`kubectl create deployment ...`) send protobuf; the sandbox decodes JSON only.
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the clouddrove sandbox accepts JSON and YAML bodies only, not ${contentType.split(";")[0]}: write the object as YAML and use kubectl apply -f or kubectl create -f`,
      );
    }
    const body = method === "GET" ? "" : await readBody(req);
    const ctx: RequestContext = {
      store,
      now: () => clock.now(),
      route,
      query,
      headers: req.headers,
      body,
      warnings: [],
    };
    const { subresource, name } = route;
    if (method === "GET" && isWatch(query)) {
      const fieldSelector = [query.get("fieldSelector"), name ? `metadata.name=${name}` : undefined]
        .filter(Boolean)
        .join(",");
      const table = wantsTable(req.headers);
      watches.serve(req, res, store, {
        kind: route.type.kind,
        namespace: route.namespace,
        labelSelector: query.get("labelSelector") ?? undefined,
        fieldSelector: fieldSelector || undefined,
        resourceVersion: query.get("resourceVersion") ?? undefined,
        timeoutSeconds: query.has("timeoutSeconds") ? Number(query.get("timeoutSeconds")) : undefined,
        render: table
          ? (object) =>
              toTable(object.kind, [object], {
                now: clock.now(),
                resourceVersion: object.metadata.resourceVersion ?? "",
                includeObject: "Metadata",
              })
          : undefined,
        cut: decision.cutWatch,
      });
      return;
    }
    let result: { code: number; body: unknown } | undefined;
    if (subresource === "scale") result = handleScale(ctx, method);
    else if (subresource === "eviction" && method === "POST") result = handleEviction(ctx);
    else if (subresource === "binding" && method === "POST") result = handleBinding(ctx);
    else if (subresource === "log" && method === "GET") {
      const simulated = podLog(ctx); // also the 404 of a missing pod
      // runtime hook: a container with a real process has a real log.
      const real = name ? options.runtime?.podLog(route.namespace ?? "", name, query) : undefined;
      return sendText(res, 200, real ?? simulated);
    } else if (subresource === undefined || subresource === "status") {
      if (method === "GET") result = name === undefined ? handleList(ctx) : handleGet(ctx);
      else if (method === "POST" && name === undefined && subresource === undefined)
        result = handleCreate(ctx);
      else if (method === "PUT" && name !== undefined) result = handleUpdate(ctx);
      else if (method === "PATCH" && name !== undefined) result = handlePatch(ctx);
      else if (method === "DELETE" && subresource === undefined) {
        result = name === undefined ? handleDeleteCollection(ctx) : handleDelete(ctx);
      }
    }
    if (result === undefined) {
      throw new ApiError(
        405,
        "MethodNotAllowed",
        `the server does not allow this method on the requested resource`,
      );
    }
    const headers: Record<string, string> = {};
    if (ctx.warnings.length > 0)
      headers.Warning = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
    sendJson(res, result.code, result.body, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (PUBLIC_PATHS.has(path) && path !== "/version") return sendText(res, 200, "ok");
    if (!PUBLIC_PATHS.has(path) && req.headers.authorization !== `Bearer ${token}`) {
      return sendJson(res, 401, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
    if (await handleAdmin(req, res, path, { store, faults, now: () => clock.now() })) return;
    const route = parseResourcePath(path);
    const decision = faults.decide(verbOf(req.method ?? "GET", route, isWatch(url.searchParams)), path);
    if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    if (decision.reset) {
      req.socket.destroy();
      return;
    }
    if (decision.error) {
      const { status, message, retryAfterSeconds } = decision.error;
      const details = retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined;
      throw new ApiError(status, reasonForStatus(status), message, details);
    }
    if (route !== undefined) return serveResource(req, res, route, url.searchParams, decision);
    if (path === "/openapi/v2") throw notFoundPath();
    const document = discovery(path, serverAddress, kubernetesVersion());
    if (document === undefined) throw notFoundPath();
    sendJson(res, 200, document);
  };

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, error);
    });
  });
  // runtime hook: pods/portforward is the one WebSocket upgrade served, with the same bearer token.
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (req.headers.authorization !== `Bearer ${token}`)
      return refuseUpgrade(socket, 401, "Unauthorized", "Unauthorized");
    if (!options.runtime)
      return refuseUpgrade(socket, 400, "BadRequest", "this sandbox runs no real processes to forward to");
    options.runtime.portForward(req, socket, head);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${port}`;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        watches.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
