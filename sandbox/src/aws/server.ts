/**
 * The sandbox's AWS endpoint: plain HTTP on 127.0.0.1 (a free port), answering the STS, EC2, EKS, EFS
 * and IAM calls clouddrove's AWS adapters make (and ACM's, see acm.ts), for the AWS SDK v3 clients pointed here by
 * AWS_ENDPOINT_URL_<SERVICE> (see awsEnvironment). Every request must carry a SigV4 Authorization header
 * that names the sandbox's access key and region; the signature itself is not checked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAcm } from "./acm.js";
import type { AwsContext } from "./context.js";
import { handleEc2 } from "./ec2.js";
import { handleEfs } from "./efs.js";
import { handleEks } from "./eks.js";
import { handleIam } from "./iam.js";
import { AwsServiceError, sendEc2Error, sendJsonError, sendQueryError } from "./protocol.js";
import { handleSts } from "./sts.js";

type Service = "sts" | "ec2" | "eks" | "elasticfilesystem" | "iam" | "acm";

export interface AwsEndpoint {
  url: string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Which service a request is for, from its shape (the query services name their API version). */
function serviceOf(method: string, url: URL, form: URLSearchParams | undefined, target: string): Service {
  if (target.startsWith("CertificateManager.")) return "acm";
  if (url.pathname.startsWith("/2015-02-01/")) return "elasticfilesystem";
  if (method === "POST" && form?.get("Version") === "2011-06-15") return "sts";
  if (method === "POST" && form?.get("Version") === "2016-11-15") return "ec2";
  if (method === "POST" && form?.get("Version") === "2010-05-08") return "iam";
  return "eks";
}

const AUTH_ERRORS: Record<Service, { missing: string; invalid: string; status: number }> = {
  sts: { missing: "MissingAuthenticationToken", invalid: "InvalidClientTokenId", status: 403 },
  iam: { missing: "MissingAuthenticationToken", invalid: "InvalidClientTokenId", status: 403 },
  ec2: { missing: "AuthFailure", invalid: "AuthFailure", status: 401 },
  eks: {
    missing: "MissingAuthenticationTokenException",
    invalid: "UnrecognizedClientException",
    status: 403,
  },
  elasticfilesystem: {
    missing: "MissingAuthenticationTokenException",
    invalid: "UnrecognizedClientException",
    status: 403,
  },
  acm: {
    missing: "MissingAuthenticationTokenException",
    invalid: "UnrecognizedClientException",
    status: 400,
  },
};

/** The SigV4 credential scope: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`. */
function checkAuthorization(ctx: AwsContext, service: Service, header: string | undefined): void {
  const errors = AUTH_ERRORS[service];
  const match = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,/.exec(
    header ?? "",
  );
  if (!match) {
    throw new AwsServiceError(
      errors.missing,
      "Request is missing Authentication Token (a SigV4 Authorization header).",
      errors.status,
    );
  }
  const [, key, , region, scope] = match;
  if (key !== ctx.state.accessKeyId) {
    throw new AwsServiceError(
      errors.invalid,
      "The security token included in the request is invalid (not the sandbox's access key).",
      errors.status,
    );
  }
  const { region: ours } = ctx.cluster();
  if (region !== ours || scope !== service) {
    throw new AwsServiceError(
      "SignatureDoesNotMatch",
      `Credential should be scoped to a valid region and service: the sandbox is ${service} in ${ours}, not ${scope} in ${region}.`,
      403,
    );
  }
}

function sendError(service: Service, response: ServerResponse, error: AwsServiceError): void {
  if (service === "sts" || service === "iam") sendQueryError(response, error);
  else if (service === "ec2") sendEc2Error(response, error);
  else sendJsonError(response, error);
}

async function handle(ctx: AwsContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? "GET";
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const body = await readBody(request);
  const isForm = String(request.headers["content-type"] ?? "").startsWith(
    "application/x-www-form-urlencoded",
  );
  const form = isForm ? new URLSearchParams(body) : undefined;
  const target = String(request.headers["x-amz-target"] ?? "");
  const service = serviceOf(method, url, form, target);
  try {
    checkAuthorization(ctx, service, request.headers.authorization);
    if (service === "sts") return handleSts(ctx, form as URLSearchParams, response);
    if (service === "ec2") return handleEc2(ctx, form as URLSearchParams, response);
    if (service === "acm")
      return handleAcm(ctx, target, body ? (JSON.parse(body) as Record<string, unknown>) : {}, response);
    if (service === "iam") return handleIam(ctx, form as URLSearchParams, response);
    const rest = { method, url, input: body ? (JSON.parse(body) as Record<string, unknown>) : {} };
    if (service === "elasticfilesystem") return await handleEfs(ctx, rest, response);
    return await handleEks(ctx, rest, response);
  } catch (error) {
    if (error instanceof AwsServiceError) return sendError(service, response, error);
    sendError(
      service,
      response,
      new AwsServiceError("InternalFailure", error instanceof Error ? error.message : String(error), 500),
    );
  }
}

export async function startAwsEndpoint(ctx: AwsContext, port = 0): Promise<AwsEndpoint> {
  const server = createServer((request, response) => {
    handle(ctx, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
