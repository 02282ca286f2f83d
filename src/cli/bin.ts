#!/usr/bin/env node
/**
 * The `pipeseal` executable. `pipeseal run` starts a user's program on every call, so its
 * start-up is on the user's critical path (`op run` costs 0.5-1.5 s a call): it is dispatched
 * to a program that loads only what `run` needs (run-main.ts), not the key service, PKI and
 * the other commands that main.ts loads. `encrypt` and `decrypt` likewise go to
 * crypt-main.ts (their start-up is part of every file's seal or open). Every other command
 * goes to main.ts.
 */

/** Program-level options that take a value (main.ts), so their value is not taken for the command name. */
const WITH_VALUE = new Set(["--home", "--server", "--cert", "--ca"]);

function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

const name = commandName(process.argv.slice(2));
await import(name === "run" ? "./run-main.js" : name === "encrypt" || name === "decrypt" ? "./crypt-main.js" : "./main.js");
