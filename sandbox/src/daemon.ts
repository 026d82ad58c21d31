#!/usr/bin/env node
/**
 * The sandbox as a background process: `clouddrove sandbox up` starts this detached, with its output
 * appended to <state dir>/sandbox.log. It serves until SIGTERM or SIGINT (`clouddrove sandbox down`), then
 * saves the state and stops every process it started. Exit 3: another process already serves the directory.
 *
 *   clouddrove-sandbox --state-dir DIR [--port N] [--nodes N] [--zones a,b,c] [--speed N]
 *                      [--kubernetes-version 1.33] [--cluster-name NAME]
 */
import { parseArgs } from "node:util";
import { AlreadyRunningError } from "./lifecycle/owner.js";
import { serve } from "./lifecycle/serve.js";

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

const { values } = parseArgs({
  options: {
    "state-dir": { type: "string" },
    port: { type: "string" },
    nodes: { type: "string" },
    zones: { type: "string" },
    speed: { type: "string" },
    "kubernetes-version": { type: "string" },
    "cluster-name": { type: "string" },
  },
});
const stateDir = values["state-dir"];
if (!stateDir) {
  log("--state-dir is required");
  process.exit(2);
}
const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));

try {
  const zones = values.zones?.split(",").filter((zone) => zone !== "");
  const serving = await serve({
    stateDir,
    mode: "daemon",
    port: number(values.port),
    nodes: number(values.nodes),
    zones,
    region: zones?.[0]?.slice(0, -1),
    speed: number(values.speed),
    kubernetesVersion: values["kubernetes-version"],
    clusterName: values["cluster-name"],
  });
  log(
    `${serving.resumed ? "resumed" : "started"} the sandbox at ${serving.sandbox.url} (pid ${process.pid}); kubeconfig ${serving.kubeconfig}`,
  );
  const stop = async (signal: string) => {
    log(`${signal}: stopping (the state is saved)`);
    try {
      await serving.stop();
      log("stopped");
      process.exit(0);
    } catch (error) {
      log(`stopping failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  // Detached from any terminal, a hang-up is not a request to stop.
  process.on("SIGHUP", () => log("SIGHUP ignored"));
} catch (error) {
  if (error instanceof AlreadyRunningError) {
    log(error.message);
    process.exit(3);
  }
  log(`could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
