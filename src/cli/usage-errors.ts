import type { Command, Option, OutputConfiguration } from "commander";

const GLOBAL_OPTIONS = ["--home", "--server", "--cert", "--ca"];

/** Commander's own usage errors in pipeseal's one-line form: `pipeseal: <message> [INVALID_ARGUMENT]`. */
export const usageOutput: OutputConfiguration = {
  outputError(text, write) {
    const lines = text
      .trim()
      .replace(/^error: /, "")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const unknown = /unknown option '([^'=]+)/.exec(lines[0] ?? "")?.[1];
    if (unknown && GLOBAL_OPTIONS.includes(unknown))
      lines.push(`(${unknown} is a global option: give it before the command, e.g. pipeseal ${unknown} … key list)`);
    write(`pipeseal: ${lines.join(" ")} [INVALID_ARGUMENT]\n`);
  },
};

const required = new WeakSet<Option>();

/**
 * Commander checks required options before unknown ones, so `encrypt --kye k` says "--key not
 * specified" instead of "unknown option '--kye' (Did you mean --key?)". Required options are
 * checked here instead, in a preAction hook, which runs after the unknown-option check.
 */
export function checkRequiredAfterUnknown(program: Command): void {
  program.commands.forEach(function relax(c: Command) {
    for (const o of c.options)
      if (o.mandatory) {
        o.mandatory = false;
        required.add(o);
      }
    c.commands.forEach(relax);
  });
  program.hook("preAction", (_program, action) => {
    for (const o of action.options)
      if (required.has(o) && action.getOptionValue(o.attributeName()) === undefined) {
        action.error(`required option '${o.flags}' not specified`, { code: "commander.missingMandatoryOptionValue", exitCode: 1 });
      }
  });
}
