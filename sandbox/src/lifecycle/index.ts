/** The sandbox's lifecycle as a process: serve in the foreground, or up/down/status in the background. */
export {
  type DownResult,
  down,
  logFile,
  mergeKubeconfig,
  type RunningSandbox,
  reset,
  type SandboxNode,
  type SandboxStatus,
  status,
  type UpOptions,
  up,
} from "./control.js";
export { AlreadyRunningError, kubeconfigFile, liveOwner, type OwnerRecord } from "./owner.js";
export { type ServeOptions, type Serving, serve } from "./serve.js";
