/**
 * A command line printed as a next step: the program (and subcommand), the flags that reach the cluster
 * the command ran against (its --kubeconfig/--context, or the shortcut it was given), then the rest.
 * Arguments that a POSIX shell would split or expand are single-quoted, so the line can be pasted as is.
 */
export interface Reach {
  kubectl: string[];
  clouddrove: string[];
}

export function commandLine(program: string, reach: readonly string[] | undefined, rest: string): string {
  const quoted = (reach ?? []).map((arg) =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`,
  );
  return [program, ...quoted, rest].filter((part) => part !== "").join(" ");
}
