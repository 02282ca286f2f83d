/**
 * Shell completion scripts for `pipeseal completion bash|zsh|fish`, generated from the
 * commander tree itself, so a new command or option completes without a second list to keep.
 * Completes command words and each command's options; anything else falls back to file names.
 */
import type { Command, Option } from "commander";

interface Node {
  /** Command words from the root, e.g. ["key", "rotate"]; [] for the program. */
  readonly path: readonly string[];
  readonly description: string;
  readonly children: readonly Node[];
  readonly options: readonly string[];
}

function tree(cmd: Command, path: readonly string[] = []): Node {
  const visible = (cmd.commands as Command[]).filter((c) => !(c as unknown as { _hidden?: boolean })._hidden && c.name() !== "help");
  const options = (cmd.options as Option[]).filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === "string"));
  return { path, description: cmd.description(), children: visible.map((c) => tree(c, [...path, c.name()])), options: [...options, "--help"] };
}

function all(node: Node): Node[] {
  return [node, ...node.children.flatMap(all)];
}

/** Shell-safe: names and flags are [a-z0-9-] already; descriptions are quoted for fish. */
const key = (n: Node) => n.path.join("/");

export function bashCompletion(program: Command): string {
  const nodes = all(tree(program));
  const cases = (what: (n: Node) => string) => nodes.map((n) => `    "${key(n)}") echo "${what(n)}" ;;`).join("\n");
  return `# pipeseal completion for bash: eval "$(pipeseal completion bash)" (or save it under bash-completion's completions/)
_pipeseal_words() {
  case "$1" in
${cases((n) => n.children.map((c) => c.path.at(-1)).join(" "))}
  esac
}
_pipeseal_options() {
  case "$1" in
${cases((n) => n.options.join(" "))}
  esac
}
_pipeseal() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" at="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case " $(_pipeseal_words "$at") " in
      *" $w "*) at="\${at:+$at/}$w" ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_pipeseal_options "$at")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_pipeseal_words "$at")" -- "$cur"))
  fi
}
complete -o default -F _pipeseal pipeseal
`;
}

export function zshCompletion(program: Command): string {
  // zsh runs the bash function through its bash-completion emulation: one script to keep true
  return `#compdef pipeseal
# pipeseal completion for zsh: eval "$(pipeseal completion zsh)" in ~/.zshrc
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}

export function fishCompletion(program: Command): string {
  const quote = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const lines = ["# pipeseal completion for fish: pipeseal completion fish > ~/.config/fish/completions/pipeseal.fish", "complete -c pipeseal -f"];
  for (const n of all(tree(program))) {
    // at this node: every word of its path seen, and none of its children yet
    const seen = n.path.map((w) => `__fish_seen_subcommand_from ${w}`);
    const notChild = n.children.length > 0 ? [`not __fish_seen_subcommand_from ${n.children.map((c) => c.path.at(-1)).join(" ")}`] : [];
    const cond = n.path.length === 0 ? "__fish_use_subcommand" : [...seen, ...notChild].join("; and ");
    for (const c of n.children) lines.push(`complete -c pipeseal -n ${quote(cond)} -a ${c.path.at(-1)} -d ${quote(c.description.slice(0, 80))}`);
    const optCond = n.path.length === 0 ? "__fish_use_subcommand" : [...seen, ...notChild].join("; and ");
    for (const o of n.options.filter((f) => f.startsWith("--"))) lines.push(`complete -c pipeseal -n ${quote(optCond)} -l ${o.slice(2)}`);
  }
  lines.push("complete -c pipeseal -F -n 'not __fish_use_subcommand'");
  return `${lines.join("\n")}\n`;
}
