import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli, killAfter } from "./run-cli.js";

const dir = tempDir("pipeseal-crash-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal") };
const data = randomBytes(48 * 1024 * 1024);
const input = path.join(dir, "big.bin");
writeFileSync(input, data);
cli(["init"], env);
cli(["key", "create", "k"], env);

/** The output either does not exist or is a complete sealed file that opens to the input. */
function expectWholeOrAbsent(sealed: string): "absent" | "whole" {
  if (!existsSync(sealed)) return "absent";
  const r = cli(["decrypt", sealed, "-o", "-"], env);
  expect(r.status).toBe(0);
  expect(r.stdout.equals(data)).toBe(true);
  return "whole";
}

describe("a process killed mid-operation", () => {
  it("never leaves a half-written sealed file (encrypt to file)", async () => {
    const seen = new Set<string>();
    for (const ms of [80, 150, 250, 400, 600, 900, 3000]) {
      const out = path.join(dir, `out-${ms}.pseal`);
      await killAfter(["encrypt", "--key", "k", input, "-o", out], env, ms);
      seen.add(expectWholeOrAbsent(out));
    }
    expect(seen.has("absent")).toBe(true); // the kills did land mid-way
  }, 120_000);

  it("leaves the old or the new file during rewrap, never a broken one, and the keystore consistent", async () => {
    const sealed = path.join(dir, "rw.pseal");
    expect(cli(["encrypt", "--key", "k", input, "-o", sealed], env).status).toBe(0);
    for (const ms of [60, 120, 200, 300, 500, 800]) {
      expect(cli(["key", "rotate", "k"], env).status).toBe(0);
      await killAfter(["rewrap", sealed], env, ms);
      expect(expectWholeOrAbsent(sealed)).toBe("whole");
    }
    expect(cli(["audit", "verify"], env).status).toBe(0);
    const versions = JSON.parse(cli(["key", "show", "k", "--json"], env).stdout.toString()).versions.map((v: { version: number }) => v.version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(readFileSync(sealed).length).toBeGreaterThan(data.length);
  }, 120_000);
});
