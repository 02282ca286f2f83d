import { UsageError } from "../errors.js";
import { confirmOnTerminal } from "./passphrase.js";

/**
 * A destructive command goes ahead only with --yes, or when a person types `expected` at the
 * terminal. Without a terminal it cannot ask, so it refuses (as `gh repo delete --yes` does):
 * a script that forgot --yes must not destroy anything.
 * @throws UsageError(INVALID_ARGUMENT) when not confirmed.
 */
export async function confirmDestructive(o: { yes: boolean | undefined; question: string; expected: string; nothing: string }): Promise<void> {
  if (o.yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError("INVALID_ARGUMENT", `this cannot be undone and there is no terminal to ask; add --yes to confirm (${o.nothing})`);
  }
  if (!(await confirmOnTerminal(o.question, o.expected))) throw new UsageError("INVALID_ARGUMENT", `not confirmed; ${o.nothing}`);
}
