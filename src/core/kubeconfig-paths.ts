/**
 * Which kubeconfig files a command reads when no --kubeconfig is given, as kubectl decides: the files
 * KUBECONFIG lists, else ~/.kube/config. Pure (the environment is handed in), so the HTTP layer that
 * reads them and the command that writes a context into the user's kubeconfig agree.
 */
import { delimiter, join } from "node:path";

export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = env.KUBECONFIG?.split(delimiter).filter((p) => p !== "") ?? [];
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME ?? env.USERPROFILE;
  return home ? [join(home, ".kube", "config")] : [];
}
