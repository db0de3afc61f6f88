// Pure: completion scripts generated from the commander tree, so they cannot drift from the options.
// What is offered depends on where the word is: an option's value gets that option's values (its
// choices, files, users, variable names, or nothing for a duration or a number); the words after `--`
// (or after run's first bare word) are the app's command line, so a command name, then files.
import type { CommandShape, OptionShape } from "./cli.ts";

const COMPGEN: Record<NonNullable<OptionShape["complete"]>, string> = {
  file: "-f",
  user: "-u",
  variable: "-v",
};

const SHELLS = "bash zsh fish";

const allOptions = (commands: readonly CommandShape[]): OptionShape[] => {
  const byName = new Map<string, OptionShape>();
  for (const option of commands.flatMap((c) => c.options)) byName.set(option.long, option);
  return [...byName.values()];
};

/** `compgen` words for an option's value; undefined: nothing to offer (a duration, a number, a ref). */
function bashValues(option: OptionShape): string | undefined {
  if (option.choices !== undefined) return `-W "${option.choices.join(" ")}"`;
  return option.complete === undefined ? undefined : COMPGEN[option.complete];
}

function bash(commands: readonly CommandShape[]): string {
  const valued = allOptions(commands).filter((o) => o.takesValue);
  const valueCases = valued
    .map((o) => {
      const words = bashValues(o);
      return `    ${o.long}) ${words === undefined ? "" : `COMPREPLY=( $(compgen ${words} -- "$cur") ); `}return ;;`;
    })
    .join("\n");
  const optionCases = commands
    .map((c) => `    ${c.name}) opts="${c.options.map((o) => o.long).join(" ")}" ;;`)
    .join("\n");
  return `_secretwrap() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} opts="" i=2 start=0 w
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur") )
    return
  fi
  # Where does the app's command line start? After "--", or at run's first bare word.
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w=\${COMP_WORDS[i]}
    if [ "$w" = "--" ]; then start=$((i + 1)); break; fi
    case " ${valued.map((o) => o.long).join(" ")} " in *" $w "*) i=$((i + 2)); continue ;; esac
    if [ "\${COMP_WORDS[1]}" = run ] && [[ "$w" != -* ]]; then start=$i; break; fi
    i=$((i + 1))
  done
  if [ "$start" -gt 0 ]; then
    if [ "$start" -eq "$COMP_CWORD" ]; then COMPREPLY=( $(compgen -c -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
    return
  fi
  case "$prev" in
${valueCases}
  esac
  case "\${COMP_WORDS[1]}" in
${optionCases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    case "\${COMP_WORDS[1]}" in
      run) COMPREPLY=( $(compgen -c -- "$cur") ) ;;
      completion) COMPREPLY=( $(compgen -W "${SHELLS}" -- "$cur") ) ;;
      get) ;;
      *) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    esac
  fi
}
complete -F _secretwrap secretwrap
`;
}

function fish(commands: readonly CommandShape[]): string {
  // Options are offered only before `--`: after it the words belong to the app.
  const beforeApp = "not contains -- -- (commandline -opc)";
  const lines = [
    `complete -c secretwrap -f -n __fish_use_subcommand -a "${commands.map((c) => c.name).join(" ")}"`,
    `complete -c secretwrap -f -n "__fish_seen_subcommand_from completion" -a "${SHELLS}"`,
  ];
  for (const command of commands) {
    for (const option of command.options) {
      const when = `-n "__fish_seen_subcommand_from ${command.name}; and ${beforeApp}"`;
      let value = "";
      if (option.choices !== undefined) value = ` -x -a "${option.choices.join(" ")}"`;
      else if (option.complete === "file") value = " -r -F";
      else if (option.complete === "user") value = ' -x -a "(__fish_complete_users)"';
      else if (option.takesValue) value = " -x";
      lines.push(`complete -c secretwrap ${when} -l ${option.long.slice(2)}${value}`);
    }
  }
  return lines.join("\n") + "\n";
}

export function completionScript(shell: "bash" | "zsh" | "fish", commands: readonly CommandShape[]): string {
  if (shell === "fish") return fish(commands);
  const script = bash(commands);
  return shell === "zsh"
    ? `#compdef secretwrap\nautoload -U +X bashcompinit && bashcompinit\n${script}`
    : script;
}
