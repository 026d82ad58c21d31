/**
 * HTTP to the Kubernetes API server of a resolved kubeconfig (kube-config.ts), with Node's own https:
 * the cluster's CA (or the system's), client certificates, bearer tokens (inline, from a file re-read
 * as kubelets rotate it, or from an exec plugin cached until it expires and refreshed once on a 401, as
 * client-go does), keep-alive connections. It answers with the status and body of every response and
 * throws only for failures below HTTP (with their error code); what a status means is decided above it.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { CredentialsError } from "../errors.js";
import type { ClusterAccess, ExecPlugin } from "./kube-config.js";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path and query, e.g. /api/v1/namespaces/x/pods?labelSelector=a%3Db */
  path: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Ends a request that has not answered (or, for a stream, gone quiet) for this long. */
  timeoutMs?: number;
}

/** A request the API server answered with a status other than 2xx: the status, its headers and body. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly body: string,
    request: Pick<HttpRequest, "method" | "path">,
  ) {
    super(`${request.method} ${request.path.split("?")[0]}: HTTP ${statusCode}`);
    this.name = "KubeApiError";
  }
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

interface Credentials {
  token?: string;
  clientCertificate?: string;
  clientKey?: string;
  /** ms since the epoch; undefined: never expires. */
  expiresAt?: number;
}

/** Runs a client.authentication.k8s.io exec plugin and reads its ExecCredential. */
function runExecPlugin(
  plugin: ExecPlugin,
  access: ClusterAccess,
  env: NodeJS.ProcessEnv,
): Promise<Credentials> {
  const info = {
    apiVersion: plugin.apiVersion,
    kind: "ExecCredential",
    spec: {
      interactive: false,
      ...(plugin.provideClusterInfo
        ? {
            cluster: {
              server: access.server,
              "insecure-skip-tls-verify": access.insecureSkipTlsVerify,
              ...(access.ca
                ? { "certificate-authority-data": Buffer.from(access.ca).toString("base64") }
                : {}),
            },
          }
        : {}),
    },
  };
  return new Promise((resolve, reject) => {
    execFile(
      plugin.command,
      plugin.args,
      {
        cwd: plugin.baseDir,
        env: { ...env, ...plugin.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) },
        timeout: 60_000,
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const failed = (message: string, hint: string) =>
          reject(new CredentialsError(message, { hint, cause: error ?? undefined }));
        if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") {
          return failed(
            `The credentials of context ${access.context} come from \`${plugin.command}\`, which is not installed.`,
            `Install it (for EKS: the AWS CLI), or write the context again.`,
          );
        }
        if (error) {
          const said = String(stderr).trim().split("\n").slice(-3).join(" ");
          return failed(
            `The credential plugin of context ${access.context} (\`${plugin.command}\`) failed${said ? `: ${said}` : ""}.`,
            "Check the plugin's own credentials (for EKS: `aws sts get-caller-identity`).",
          );
        }
        try {
          const status = (JSON.parse(String(stdout)) as { status?: Record<string, string> }).status ?? {};
          const expiresAt = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : undefined;
          resolve({
            token: status.token,
            clientCertificate: status.clientCertificateData,
            clientKey: status.clientKeyData,
            expiresAt: Number.isFinite(expiresAt) ? expiresAt : undefined,
          });
        } catch {
          failed(
            `The credential plugin of context ${access.context} (\`${plugin.command}\`) printed no ExecCredential.`,
            "Run the plugin's command by hand to see what it prints.",
          );
        }
      },
    );
  });
}

export class KubeHttp {
  private readonly url: URL;
  private agent: http.Agent | undefined;
  private agentKey = "";
  private cached: Credentials | undefined;

  constructor(
    readonly access: ClusterAccess,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.url = new URL(access.server);
  }

  /** The credentials to send now: the exec plugin's are reused until a minute before they expire. */
  async credentials(refresh = false): Promise<Credentials> {
    const { access } = this;
    if (access.exec) {
      const fresh =
        this.cached && !refresh && (this.cached.expiresAt ?? Number.POSITIVE_INFINITY) > Date.now() + 60_000;
      if (!fresh) this.cached = await runExecPlugin(access.exec, access, this.env);
      return this.cached as Credentials;
    }
    // A token file is read each time: whoever writes it may rotate it.
    const token = access.tokenFile ? readFileSync(access.tokenFile, "utf8").trim() : access.token;
    return { token, clientCertificate: access.clientCertificate, clientKey: access.clientKey };
  }

  /** TLS settings for this cluster and these credentials (also what a WebSocket to the server needs). */
  tlsOptions(credentials: Credentials): https.AgentOptions {
    return {
      ca: this.access.ca,
      cert: credentials.clientCertificate,
      key: credentials.clientKey,
      rejectUnauthorized: !this.access.insecureSkipTlsVerify,
      servername: this.access.tlsServerName,
    };
  }

  headers(credentials: Credentials): Record<string, string> {
    if (credentials.token) return { Authorization: `Bearer ${credentials.token}` };
    const basic = this.access.basic;
    if (basic)
      return {
        Authorization: `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`,
      };
    return {};
  }

  private agentFor(credentials: Credentials): http.Agent {
    const key = `${credentials.clientCertificate ?? ""}|${credentials.clientKey ?? ""}`;
    if (!this.agent || key !== this.agentKey) {
      this.agent?.destroy();
      this.agentKey = key;
      this.agent =
        this.url.protocol === "https:"
          ? new https.Agent({ keepAlive: true, ...this.tlsOptions(credentials) })
          : new http.Agent({ keepAlive: true });
    }
    return this.agent;
  }

  private open(request: HttpRequest, credentials: Credentials): Promise<http.IncomingMessage> {
    const target = new URL(request.path, this.url);
    const body =
      request.body === undefined
        ? undefined
        : typeof request.body === "string"
          ? request.body
          : JSON.stringify(request.body);
    const send = this.url.protocol === "https:" ? https.request : http.request;
    const { signal } = request;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let response: http.IncomingMessage | undefined;
      // Ctrl-C (or the caller done with a watch) ends the exchange by destroying it without an error: an
      // error emitted on the socket after the agent has taken it back would be nobody's, an uncaught
      // exception. Whoever reads the body sees it end early; the promise answers with the signal's reason.
      const onAbort = () => {
        response?.destroy();
        req.destroy();
        reject(signal?.reason);
      };
      const req = send(
        target,
        {
          method: request.method,
          agent: this.agentFor(credentials),
          headers: {
            Accept: request.accept ?? "application/json",
            "User-Agent": "clouddrove",
            ...this.headers(credentials),
            ...(body === undefined
              ? {}
              : {
                  "Content-Type": request.contentType ?? "application/json",
                  "Content-Length": Buffer.byteLength(body),
                }),
          },
          timeout: request.timeoutMs,
        },
        (answer) => {
          response = answer;
          answer.once("close", () => signal?.removeEventListener("abort", onAbort));
          resolve(answer);
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error(`no answer from ${this.url.host}`), { code: "ETIMEDOUT" })),
      );
      req.on("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      req.end(body);
    });
  }

  /** One request and its whole answer. A 401 with an exec plugin refreshes the credentials and tries once more. */
  async request(request: HttpRequest): Promise<HttpResponse> {
    let credentials = await this.credentials();
    for (let attempt = 0; ; attempt++) {
      const response = await this.open(request, credentials);
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      const status = response.statusCode ?? 0;
      if (status === 401 && this.access.exec && attempt === 0) {
        credentials = await this.credentials(true);
        continue;
      }
      return { status, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") };
    }
  }

  /** One request whose 2xx answer is JSON (or empty); any other answer throws a KubeApiError. */
  async json<T>(request: HttpRequest): Promise<T> {
    const answer = await this.request(request);
    if (answer.status < 200 || answer.status > 299)
      throw new KubeApiError(answer.status, answer.headers, answer.text, request);
    const type = String(answer.headers["content-type"] ?? "");
    return (
      answer.text === "" ? undefined : type.includes("json") ? JSON.parse(answer.text) : answer.text
    ) as T;
  }

  /**
   * A streamed answer (a watch): `onLine` gets each line as it arrives. Resolves with the status when the
   * server ends the stream; `onAccepted` is called once the server accepted it (2xx). A non-2xx answer is
   * read whole and returned (its text) instead of lines.
   */
  async stream(
    request: HttpRequest,
    onLine: (line: string) => void,
    onAccepted: () => void = () => {},
  ): Promise<HttpResponse> {
    const response = await this.open(request, await this.credentials());
    const status = response.statusCode ?? 0;
    if (status >= 200 && status <= 299) onAccepted();
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      return { status, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") };
    }
    let pending = "";
    response.setEncoding("utf8");
    try {
      for await (const chunk of response) {
        pending += chunk as string;
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== "") onLine(line);
          newline = pending.indexOf("\n");
        }
      }
    } catch (error) {
      // Ended by the caller: the caller's reason (an AbortError), not the socket's "aborted".
      if (request.signal?.aborted) throw request.signal.reason;
      throw error;
    }
    if (pending.trim() !== "") onLine(pending.trim());
    return { status, headers: response.headers, text: "" };
  }

  /** Closes the kept-alive connections, so a finished command exits at once. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
