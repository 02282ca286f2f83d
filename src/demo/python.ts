/**
 * The training job's Python: Debian's /usr/bin/python3 with python3-torch, python3-fsspec and
 * python3-aiohttp (scripts/setup.sh installs them). Missing, the demo fails with what to run,
 * never skips the stage. The check finds the modules without importing them: importing torch
 * takes seconds, and the job imports it anyway.
 */
import { spawnSync } from "node:child_process";
import { check } from "./context.js";

/** Debian's Python; PIPESEAL_DEMO_PYTHON names another (the tests use it to play a machine without torch). */
export const PYTHON = process.env.PIPESEAL_DEMO_PYTHON ?? "/usr/bin/python3";
export const MODULES = ["torch", "fsspec", "aiohttp"] as const;
export const SETUP_HINT = "run `bash scripts/setup.sh`";

const FIND = `import importlib.util as u, sys
missing = [m for m in sys.argv[1:] if u.find_spec(m) is None]
print(" ".join(missing)); sys.exit(3 if missing else 0)`;

export function checkPython(): void {
  const r = spawnSync(PYTHON, ["-c", FIND, ...MODULES], { encoding: "utf8", timeout: 30_000 });
  const why = r.error
    ? `${PYTHON} not found`
    : r.status === 3
      ? `${PYTHON} lacks ${r.stdout.trim().split(" ").join(", ")}`
      : r.status !== 0
        ? `${PYTHON} failed: ${(r.stderr || "").trim().split("\n").at(-1)}`
        : null;
  check(why === null, `training needs ${PYTHON} with ${MODULES.join(", ")} (${why}): ${SETUP_HINT}`);
}
