import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

/**
 * Issue 22 item 11: a file name with a newline and ANSI escapes must not forge an audit line
 * (or anything else) on the terminal. Human output escapes it; JSON output stays exact JSON.
 */
describe("user-controlled strings in human-readable output (built CLI)", () => {
  const dir = tempDir("pipeseal-escape-");
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[], input?: string) => cli(args, env, input);
  const FORGED = "\n99  2026-01-01T00:00:00.000Z  root  decrypt  datasets-raw v1  ok  etc-shadow";
  const name = `evil${FORGED}\x1b[31m\u202etxt.bin`;
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it("audit list, inspect, decrypt, rewrap and errors show the name escaped, on one line; --json keeps it exact", () => {
    expect(run(["init"]).status).toBe(0);
    expect(run(["key", "create", "datasets/raw"]).status).toBe(0);
    const file = path.join(dir, name);
    writeFileSync(file, "secret rows");
    expect(run(["encrypt", "--key", "datasets/raw", file]).status).toBe(0);
    const dec = run(["decrypt", `${file}.pseal`, "-o", path.join(dir, "out.bin")]);
    expect(dec.status, dec.stderr).toBe(0);
    expect(dec.stdout.toString()).not.toMatch(CONTROL);
    expect(dec.stdout.toString().trim().split("\n")).toHaveLength(1);

    const list = run(["audit", "list"]).stdout.toString();
    expect(list).not.toMatch(CONTROL);
    expect(list).toContain("\\n99  2026-01-01T00:00:00.000Z  root  decrypt");
    expect(list).toContain("\\x1b[31m\\u202etxt.bin.pseal");
    // one line per record: the forged record is not a line of its own
    const lines = list.trim().split("\n");
    expect(lines.every((l) => /^\d+ {2}/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith("99  "))).toBe(false);
    const json = JSON.parse(run(["audit", "list", "--json"]).stdout.toString()) as { objectPath: string | null }[];
    expect(json.map((r) => r.objectPath)).toContain(`${file}.pseal`);

    const inspect = run(["inspect", `${file}.pseal`]).stdout.toString();
    expect(inspect).not.toMatch(CONTROL);
    expect(inspect).toContain("\\x1b[31m");
    expect(JSON.parse(run(["inspect", "--json", `${file}.pseal`]).stdout.toString()).context).toEqual({});

    // a context value is user-controlled too
    const ctx = run(["encrypt", "--key", "datasets/raw", "--context", "stage=a\x1b[2Jb", "-o", path.join(dir, "ctx.pseal"), file]);
    expect(ctx.status, ctx.stderr).toBe(0);
    expect(run(["inspect", path.join(dir, "ctx.pseal")]).stdout.toString()).toContain("stage=a\\x1b[2Jb");

    expect(run(["key", "rotate", "datasets/raw"]).status).toBe(0);
    const rw = run(["rewrap", `${file}.pseal`]).stdout.toString();
    expect(rw).not.toMatch(CONTROL);
    expect(rw.trim().split("\n")).toHaveLength(1);

    // an error naming the file stays one line
    const err = run(["decrypt", `${file}.pseal`, "-o", path.join(dir, "out.bin")]);
    expect(err.status).toBe(2);
    expect(err.stderr).not.toMatch(CONTROL);
    expect(err.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("scan prints a planted file name escaped", () => {
    const repo = path.join(dir, "repo");
    mkdirSync(repo);
    writeFileSync(path.join(repo, `x${FORGED}\x1b[0m.py`), `token = "ghp_${"a1B2c3D4e5".repeat(3)}abcdef"\n`);
    const r = cli(["scan", repo], env);
    expect(r.status).toBe(8);
    const out = r.stdout.toString();
    expect(out).not.toMatch(CONTROL);
    expect(out.trim().split("\n")).toHaveLength(1);
    expect(out).toContain("\\x1b[0m.py");
  });
});
