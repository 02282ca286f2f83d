/**
 * Issue 23: the README's recipes work as written. Every `sh` block of its "Recipes" section
 * runs in order, in one scratch folder, under `bash -euo pipefail`, with `pipeseal` on PATH
 * (the built CLI). A block that fails fails the test with its output. Nothing is substituted:
 * a recipe that needs a file makes it, a recipe that needs a server starts (and stops) it.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { CLI } from "../cli/run-cli.js";
import { runAsync } from "../helpers/run-async.js";

const README = readFileSync(path.join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** The `sh` blocks between "## Recipes" and the next second-level heading, with the heading each sits under. */
export function recipeBlocks(markdown: string): { heading: string; code: string }[] {
  const start = markdown.indexOf("\n## Recipes\n");
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  const out: { heading: string; code: string }[] = [];
  let heading = "Recipes";
  const re = /^### (.*)$|^```sh\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(section); m; m = re.exec(section)) {
    if (m[1] !== undefined) heading = m[1];
    else out.push({ heading, code: m[2]! });
  }
  return out;
}

const blocks = recipeBlocks(README);
const dir = tempDir("pipeseal-readme-");
const bin = path.join(dir, ".bin");
mkdirSync(bin);
writeFileSync(path.join(bin, "pipeseal"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
chmodSync(path.join(bin, "pipeseal"), 0o755);
const work = path.join(dir, "work");
mkdirSync(work);
const env = { PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: dir, LANG: "C.UTF-8" };

describe("README recipes, run as written (built CLI)", () => {
  it("the section has recipe blocks", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });
  for (const [i, b] of blocks.entries()) {
    it(`block ${i + 1} (${b.heading.replace(/\s*\(\[docs.*$/, "")})`, async () => {
      const r = await runAsync("bash", ["--noprofile", "--norc", "-euo", "pipefail", "-c", b.code], { cwd: work, env, timeout: 180_000 });
      expect(
        r.status,
        `block ${i + 1} failed (status ${r.status}, signal ${r.signal}):\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`,
      ).toBe(0);
    }, 200_000);
  }
});
