/**
 * `pipeseal scan PATHS --fix=patch|apply`: moves the secrets the scanner finds into the secret
 * store and rewrites the code to read them at run time (src/scan/fix). `patch` prints a
 * unified diff and changes nothing (not even the store); `apply` stores the secrets, then
 * rewrites the files atomically. With --server the store is the key service's, and the
 * printed `pipeseal run` lines carry the same --server and --cert. Values are never printed.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { applyFixes, planFixes, unifiedDiff, type FixPlan, type SecretSink } from "../../scan/fix/index.js";
import type { SecretInfo } from "../../secrets/info.js";
import { SecretStore } from "../../secrets/index.js";
import { EXIT } from "../exit-codes.js";
import { keystoreHome, openLocalKeystore } from "../local-keystore.js";
import { remoteKeyring, serviceFlags } from "../session.js";

const HISTORY_WARNING =
  "pipeseal scan: WARNING: the old values are still in your git history (and in any clone, fork, CI cache or backup): " +
  "rotate every moved secret at its issuer now, then store the new value with `pipeseal secret rotate NAME`.\n";

function summary(plan: FixPlan, applied: boolean): string {
  const lines: string[] = [];
  for (const s of plan.secrets) lines.push(`${applied ? "stored" : "would store"} ${s.name} (read as $${s.variable}) from ${s.files.join(", ")}`);
  for (const f of plan.files) lines.push(`${applied ? "rewrote" : "would rewrite"} ${f.path}`);
  for (const u of plan.unfixed) lines.push(`not fixed: ${u.path}:${u.line}:${u.column} ${u.detector}: ${u.reason}`);
  if (plan.runLines.length > 0)
    lines.push(applied ? "run the fixed programs with:" : "after --fix=apply, run them with:", ...plan.runLines.map((l) => `  ${l}`));
  return lines.join("\n") + "\n";
}

export async function scanFix(
  cmd: Command,
  paths: string[],
  opts: { fix: string; fixPrefix?: string; gitignore: boolean; maxFileSize: number },
): Promise<void> {
  if (opts.fix !== "patch" && opts.fix !== "apply")
    throw new UsageError("INVALID_ARGUMENT", `--fix is patch (print a diff) or apply (store and rewrite), not "${opts.fix}"`);
  await withSecretSink(cmd, opts.fix === "apply", async (store) => {
    const taken = new Set((await store?.list())?.map((s) => s.name) ?? []);
    const plan = await planFixes(paths, {
      taken,
      gitignore: opts.gitignore,
      maxFileSize: opts.maxFileSize,
      runFlags: serviceFlags(cmd),
      ...(opts.fixPrefix ? { prefix: opts.fixPrefix } : {}),
    });
    if (opts.fix === "patch") {
      for (const f of plan.files) process.stdout.write(unifiedDiff(f.path, f.before, f.after));
      process.stderr.write(summary(plan, false));
    } else {
      await applyFixes(plan, store!);
      process.stdout.write(summary(plan, true));
    }
    if (plan.secrets.length > 0) process.stderr.write(HISTORY_WARNING);
    if (plan.unfixed.length > 0) process.exitCode = EXIT.findings;
  });
}

/** Where the secrets go, and the names already taken there. */
interface FixStore extends SecretSink {
  list(): SecretInfo[] | Promise<SecretInfo[]>;
}

/**
 * The store the secrets move to: with --server the key service's (so `--fix=apply` never
 * leaves a secret on this machine), else the local keystore's. `patch` needs none (locally,
 * a missing keystore only means no name is taken yet); `apply` does.
 */
async function withSecretSink(cmd: Command, apply: boolean, run: (store: FixStore | undefined) => Promise<void>): Promise<void> {
  const remote = await remoteKeyring(cmd);
  if (remote) {
    try {
      return await run(remote.secrets);
    } finally {
      await remote.close();
    }
  }
  const home = keystoreHome(cmd);
  const hasStore = existsSync(path.join(home, "keystore.db"));
  if (apply && !hasStore)
    throw new UsageError(
      "INVALID_ARGUMENT",
      `--fix=apply stores secrets in the keystore, and there is none in ${home}; run \`pipeseal init\` (or give --server URL --cert DIR to store them in the key service)`,
    );
  const ks = hasStore ? await openLocalKeystore(home) : undefined;
  try {
    await run(ks ? new SecretStore(ks) : undefined);
  } finally {
    ks?.close();
  }
}
