/** `pipeseal completion bash|zsh|fish`: a completion script on stdout, made from the command tree. */
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { bashCompletion, fishCompletion, zshCompletion } from "../completion.js";

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export function completionCommand(): Command {
  return new Command("completion")
    .description(
      'print a shell completion script: eval "$(pipeseal completion bash)"; zsh likewise; fish: pipeseal completion fish > ~/.config/fish/completions/pipeseal.fish',
    )
    .argument("<shell>", "bash, zsh or fish")
    .action((shell: string, _opts: unknown, cmd: Command) => {
      const render = SHELLS[shell as keyof typeof SHELLS];
      if (!render) throw new UsageError("INVALID_ARGUMENT", `no completion for "${shell.slice(0, 20)}": use bash, zsh or fish`);
      process.stdout.write(render(cmd.parent as Command));
    });
}
