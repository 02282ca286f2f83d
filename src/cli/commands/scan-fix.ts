/**
 * `pipeseal scan PATHS --fix=patch|apply`: moves the secrets the scanner finds into the secret
 * store and rewrites the code to read them at run time (src/scan/fix). `patch` prints a
 * unified diff and changes nothing (not even the store); `apply` stores the secrets, then
 * rewrites the files atomically. Values are never printed.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { applyFixes, planFixes, unifiedDiff, type FixPlan } from "../../scan/fix/index.js";
import { SecretStore } from "../../secrets/index.js";
import { EXIT } from "../exit-codes.js";
import { keystoreHome, openLocalKeystore } from "../local-keystore.js";

const HISTORY_WARNING =
  "pipeseal scan: WARNING: the old values are still in your git history (and in any clone, fork, CI cache or backup): " +
  "rotate every moved secret at its issuer now, then store the new value with `pipeseal secret rotate NAME`.\n";

function summary(plan: FixPlan, applied: boolean): string {
  const lines: string[] = [];
  for (const s of plan.secrets) lines.push(`${applied ? "stored" : "would store"} ${s.name} (read as $${s.variable}) from ${s.files.join(", ")}`);
  for (const f of plan.files) lines.push(`${applied ? "rewrote" : "would rewrite"} ${f.path}`);
  for (const u of plan.unfixed) lines.push(`not fixed: ${u.path}:${u.line}:${u.column} ${u.detector}: ${u.reason}`);
  if (plan.runLines.length > 0) lines.push(applied ? "run the fixed programs with:" : "after --fix=apply, run them with:", ...plan.runLines.map((l) => `  ${l}`));
  return lines.join("\n") + "\n";
}

export async function scanFix(cmd: Command, paths: string[], opts: { fix: string; fixPrefix?: string; gitignore: boolean; maxFileSize: number }): Promise<void> {
  if (opts.fix !== "patch" && opts.fix !== "apply") throw new UsageError("INVALID_ARGUMENT", `--fix is patch (print a diff) or apply (store and rewrite), not "${opts.fix}"`);
  const home = keystoreHome(cmd);
  const hasStore = existsSync(path.join(home, "keystore.db"));
  if (opts.fix === "apply" && !hasStore) throw new UsageError("INVALID_ARGUMENT", `--fix=apply stores secrets in the keystore, and there is none in ${home}; run \`pipeseal init\``);
  const ks = hasStore ? await openLocalKeystore(home) : undefined;
  try {
    const store = ks ? new SecretStore(ks) : undefined;
    const taken = new Set(store?.list().map((s) => s.name) ?? []);
    const plan = await planFixes(paths, { taken, gitignore: opts.gitignore, maxFileSize: opts.maxFileSize, ...(opts.fixPrefix ? { prefix: opts.fixPrefix } : {}) });
    if (opts.fix === "patch") {
      for (const f of plan.files) process.stdout.write(unifiedDiff(f.path, f.before, f.after));
      process.stderr.write(summary(plan, false));
    } else {
      await applyFixes(plan, store!);
      process.stdout.write(summary(plan, true));
    }
    if (plan.secrets.length > 0) process.stderr.write(HISTORY_WARNING);
    if (plan.unfixed.length > 0) process.exitCode = EXIT.findings;
  } finally {
    ks?.close();
  }
}
