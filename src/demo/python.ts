/**
 * The training job's Python: Debian's /usr/bin/python3 with python3-torch, python3-fsspec and
 * python3-aiohttp (scripts/setup.sh installs them). Missing, the demo fails with what to run,
 * never skips the stage.
 */
import { spawnSync } from "node:child_process";
import { check } from "./context.js";

/** Debian's Python; PIPESEAL_DEMO_PYTHON names another (the tests use it to play a machine without torch). */
export const PYTHON = process.env.PIPESEAL_DEMO_PYTHON ?? "/usr/bin/python3";

export function checkPython(): void {
  const r = spawnSync(PYTHON, ["-c", "import torch, fsspec, aiohttp"], { encoding: "utf8", timeout: 60_000 });
  check(r.status === 0, `training needs ${PYTHON} with torch, fsspec and aiohttp (${(r.stderr || r.error?.message || "not found").trim().split("\n").at(-1)}): run \`bash scripts/setup.sh\``);
}
