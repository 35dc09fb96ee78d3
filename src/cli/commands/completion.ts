// `surgctl completion bash|zsh|fish`: a completion script built from the live command tree, so it never drifts.
import { Argument, Command } from 'commander';
import type { CliContext } from '../io.js';

interface Spec {
  name: string;
  subs: string[];
  options: string[];
}

function specs(root: Command): { top: string[]; globals: string[]; commands: Spec[] } {
  const names = (c: Command) => c.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  return {
    top: root.commands.map((c) => c.name()),
    globals: [...names(root), '--help'],
    commands: root.commands.map((c) => ({ name: c.name(), subs: c.commands.map((s) => s.name()), options: [...names(c), ...c.commands.flatMap(names), '--help'] })),
  };
}

function completionScript(shell: 'bash' | 'zsh' | 'fish', root: Command): string {
  const s = specs(root);
  if (shell === 'fish') {
    const lines = ['# surgctl completion for fish: surgctl completion fish > ~/.config/fish/completions/surgctl.fish', 'complete -c surgctl -f'];
    for (const c of s.commands) lines.push(`complete -c surgctl -n '__fish_use_subcommand' -a '${c.name}'`);
    for (const c of s.commands) {
      for (const sub of c.subs) lines.push(`complete -c surgctl -n '__fish_seen_subcommand_from ${c.name}' -a '${sub}'`);
      for (const o of c.options) lines.push(`complete -c surgctl -n '__fish_seen_subcommand_from ${c.name}' -l '${o.replace(/^--/, '')}'`);
    }
    for (const o of s.globals) lines.push(`complete -c surgctl -l '${o.replace(/^--/, '')}'`);
    return lines.join('\n') + '\n';
  }
  const cases = s.commands
    .map((c) => `    ${c.name}) words="${[...c.subs, ...c.options].join(' ')}" ;;`)
    .join('\n');
  const bashBody = `_surgctl() {
  local cur cmd words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${s.top.join(' ')} ${s.globals.join(' ')}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) words="" ;;
  esac
  if [[ "$cur" == -* || -n "$words" ]]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  fi
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
}
complete -F _surgctl surgctl
`;
  if (shell === 'bash') return `# surgctl completion for bash: eval "$(surgctl completion bash)"\n${bashBody}`;
  return `#compdef surgctl\n# surgctl completion for zsh: eval "$(surgctl completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bashBody}`;
}

export const completionCommand = (ctx: CliContext): Command =>
  new Command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'bash | zsh | fish').choices(['bash', 'zsh', 'fish']))
    .action(function (this: Command, shell: 'bash' | 'zsh' | 'fish') {
      const root = this.parent ?? this;
      ctx.io.stdout.write(completionScript(shell, root));
    });
