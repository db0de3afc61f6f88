// Pure: completion scripts generated from the commander tree, so they cannot drift from the options.
import type { CommandShape } from "./cli.ts";

export function completionScript(shell: "bash" | "zsh" | "fish", commands: readonly CommandShape[]): string {
  const names = commands.map((c) => c.name).join(" ");
  if (shell === "fish") {
    const lines = [`complete -c secretwrap -f -n __fish_use_subcommand -a "${names}"`];
    for (const command of commands) {
      for (const option of command.options) {
        lines.push(
          `complete -c secretwrap -n "__fish_seen_subcommand_from ${command.name}" -l ${option.slice(2)}`,
        );
      }
    }
    return lines.join("\n") + "\n";
  }
  const cases = commands.map((c) => `    ${c.name}) opts="${c.options.join(" ")}" ;;`).join("\n");
  const bash = `_secretwrap() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -F _secretwrap secretwrap
`;
  return shell === "zsh" ? `#compdef secretwrap\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}
