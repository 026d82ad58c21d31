/** What the render tests give the renderer: configurations from --set lines, and fixed pull credentials. */
import bcrypt from "bcryptjs";
import { resolveConfig } from "../../src/config/resolve.js";
import type { Config } from "../../src/config/schema.js";
import { prepareServerTls } from "../../src/core/tls/prepare.js";

/** The registry's pull credentials, fixed so that renders compare (bcrypt cost 4: tests stay fast). */
export const credentials = {
  username: "clouddrove",
  password: "pull-password",
  httpSecret: "0123456789abcdef0123456789abcdef",
  htpasswd: `clouddrove:${bcrypt.hashSync("pull-password", 4)}`,
};

/** The configuration the defaults and these `--set key=value` lines resolve to. */
export const configWith = (...set: string[]): Config => resolveConfig({ set }).config;

/**
 * A CA and server certificate for renders with tls.mode private-ca (the default), made once per test file
 * for the names a deploy without a load balancer address gives them.
 */
export const tls = (await prepareServerTls(configWith(), {}, undefined, new Date())).tls;
