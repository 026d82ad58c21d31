/**
 * Shell completion scripts for bash, zsh and fish, generated from the command tree (commands/completion.ts
 * reads it from the commander program), so a new command or flag completes without editing a script.
 * zsh runs the bash function through bashcompinit, the way zsh itself supports bash completions.
 */

export interface CompletionOption {
  /** "--dry-run", "-o" */
  names: string[];
  description: string;
  /** Values the option takes, when they are a fixed list (-o text|json|yaml). */
  choices?: readonly string[];
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  commands: CompletionCommand[];
  /** Fixed values of its arguments (`completion bash|zsh|fish`). */
  values: readonly string[];
}

interface Node {
  /** "" for the program, "cluster create" for a nested command. */
  path: string;
  command: CompletionCommand;
}

function walk(command: CompletionCommand, path = ""): Node[] {
  return [
    { path, command },
    ...command.commands.flatMap((sub) => walk(sub, path ? `${path} ${sub.name}` : sub.name)),
  ];
}

/** Single quotes for the shell: 'it'\''s'. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function bashScript(program: CompletionCommand): string {
  const nodes = walk(program);
  // The program's options work after any command (--version only before one).
  const globalOptions = program.options
    .flatMap((o) => o.names)
    .filter((n) => n !== "-V" && n !== "--version");
  // Commands and argument values unless a dash is typed; flags after a dash (or when nothing else fits).
  const words = nodes.map(({ path, command }) => {
    const names = [...command.values, ...command.commands.map((c) => c.name)];
    const flags = [...command.options.flatMap((o) => o.names), ...(path === "" ? [] : globalOptions)];
    return `    ${quote(path)}) names=${quote(names.join(" "))}; flags=${quote(flags.join(" "))} ;;`;
  });
  const paths = nodes.filter((n) => n.path !== "").map((n) => quote(n.path));
  // An option's values, for the command it belongs to (deploy's --dry-run takes client|server, others none);
  // the program's own (-o) for every command.
  const choices = nodes.flatMap(({ path, command }) =>
    command.options
      .filter((o) => o.choices)
      .flatMap((o) =>
        o.names.map(
          (n) =>
            `    ${path === "" ? `*${quote(`|${n}`)}` : quote(`${path}|${n}`)}) words=${quote((o.choices ?? []).join(" "))} ;;`,
        ),
      ),
  );
  const name = program.name;
  return `# ${name} completion for bash. Load it with: source <(${name} completion bash)
_${name}_completion() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" next word words i
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # The command path so far: the words that name a (sub)command, past options and their values.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    [[ $word == -* ]] && continue
    next="\${path:+$path }$word"
    case "$next" in
      ${paths.join("|")}) path="$next" ;;
    esac
  done
  words=""
  case "$path|$prev" in
${choices.join("\n")}
  esac
  if [[ -z $words ]]; then
    local names="" flags=""
    case "$path" in
${words.join("\n")}
    esac
    if [[ $cur == -* || -z $names ]]; then words="$flags"; else words="$names"; fi
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _${name}_completion ${name}
`;
}

export function zshScript(program: CompletionCommand): string {
  return `#compdef ${program.name}
# ${program.name} completion for zsh. Load it with: source <(${program.name} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program).replace(/^# .*\n/, "")}`;
}

export function fishScript(program: CompletionCommand): string {
  const name = program.name;
  const lines = [`# ${name} completion for fish. Load it with: ${name} completion fish | source`];
  lines.push(`complete -c ${name} -f`);
  for (const { path, command } of walk(program)) {
    const parts = path === "" ? [] : path.split(" ");
    const children = command.commands.map((c) => c.name);
    // fish's helpers: "this path was typed, and none of its subcommands yet".
    const seen = parts.map((part) => `__fish_seen_subcommand_from ${part}`);
    const condition =
      parts.length === 0
        ? "__fish_use_subcommand"
        : [
            ...seen,
            ...(children.length ? [`not __fish_seen_subcommand_from ${children.join(" ")}`] : []),
          ].join("; and ");
    if (command.values.length > 0) {
      lines.push(
        `complete -c ${name} -n ${quote(seen.join("; and "))} -a ${quote(command.values.join(" "))}`,
      );
    }
    for (const child of command.commands) {
      lines.push(
        `complete -c ${name} -n ${quote(condition)} -a ${child.name} -d ${quote(child.description)}`,
      );
    }
    const optionCondition = parts.length === 0 ? "" : ` -n ${quote(seen.join("; and "))}`;
    for (const option of command.options) {
      const flags = option.names
        .map((n) => (n.startsWith("--") ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`))
        .join(" ");
      const values = option.choices ? ` -x -a ${quote(option.choices.join(" "))}` : "";
      lines.push(`complete -c ${name}${optionCondition} ${flags}${values} -d ${quote(option.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
