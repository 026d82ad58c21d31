/**
 * The wire formats of the AWS services the sandbox answers, as the AWS SDK v3 clients parse them: the
 * query protocols (STS: awsQuery, EC2: ec2Query) take a form-encoded body and answer XML; EKS and EFS are
 * REST-JSON, with the error's type in the `x-amzn-errortype` header.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";

/** An answer the service refuses with: its error code (the SDK's error name) and HTTP status. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Form = URLSearchParams;

/** Indexed list members of a query request: `prefix.1`, `prefix.2`, ... */
export function formList(form: Form, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; form.has(`${prefix}.${i}`); i++) values.push(form.get(`${prefix}.${i}`) as string);
  return values;
}

/** Indexed structure members: for `Filter`, the numbers n with some `Filter.n.*` key. */
export function formIndexes(form: Form, prefix: string): number[] {
  const indexes = new Set<number>();
  const pattern = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.(\\d+)\\.`);
  for (const key of form.keys()) {
    const match = pattern.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  return [...indexes].sort((a, b) => a - b);
}

/** EC2's `Filter.N.Name` / `Filter.N.Value.M`, as name -> values. */
export function formFilters(form: Form): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const n of formIndexes(form, "Filter")) {
    const name = form.get(`Filter.${n}.Name`);
    if (name) filters.set(name, formList(form, `Filter.${n}.Value`));
  }
  return filters;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An XML value: objects are elements, arrays are `<item>` lists, undefined is left out. */
export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [name: string]: XmlValue };

export function xml(value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => `<item>${xml(item)}</item>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => `<${name}>${xml(v)}</${name}>`)
      .join("");
  }
  return escapeXml(String(value));
}

function send(response: ServerResponse, status: number, type: string, body: string, headers = {}): void {
  response.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  response.end(body);
}

/** An awsQuery (STS) answer: `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata/>`. */
export function sendQueryResult(
  response: ServerResponse,
  action: string,
  namespace: string,
  result: XmlValue,
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${namespace}"><${action}Result>${xml(result)}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
  send(response, 200, "text/xml", body);
}

export function sendQueryError(response: ServerResponse, error: AwsServiceError): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  send(response, error.status, "text/xml", body);
}

/** An ec2Query answer: the members directly under `<ActionResponse>`, with a requestId. */
export function sendEc2Result(response: ServerResponse, action: string, result: XmlValue): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId>${xml(result)}</${action}Response>`;
  send(response, 200, "text/xml;charset=UTF-8", body);
}

export function sendEc2Error(response: ServerResponse, error: AwsServiceError): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  send(response, error.status, "text/xml;charset=UTF-8", body);
}

export function sendJsonResult(response: ServerResponse, status: number, value: unknown): void {
  if (status === 204) {
    response.writeHead(204, { "x-amzn-requestid": randomUUID() });
    response.end();
    return;
  }
  send(response, status, "application/json", JSON.stringify(value));
}

/** REST-JSON errors: the type in `x-amzn-errortype`, the message in the body (EFS adds ErrorCode). */
export function sendJsonError(response: ServerResponse, error: AwsServiceError): void {
  send(
    response,
    error.status,
    "application/json",
    JSON.stringify({ message: error.message, Message: error.message, ErrorCode: error.code }),
    { "x-amzn-errortype": error.code },
  );
}

/** Seconds since the epoch, as REST-JSON timestamps are sent. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
