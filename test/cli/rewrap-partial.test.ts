import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeHeader } from "../../src/envelope/header.js";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

/**
 * Issue 22 item 9: a rewrap with one entry that cannot be rewrapped (destroyed version,
 * corrupted entry) rewraps the others, keeps that one as it was, says so on the CLI, and the
 * audit states exactly what the file holds — never `rewrap … ok` for what was not written.
 */
interface Rec {
  seq: number;
  operation: string;
  outcome: string;
  errorCode: string | null;
  keyName: string | null;
  keyVersion: number | null;
  objectPath: string | null;
}

describe("rewrap with an entry that cannot be rewrapped (built CLI)", () => {
  const dir = tempDir("pipeseal-rewrap-partial-");
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[]) => cli(args, env);
  const f = (n: string) => path.join(dir, n);
  const audit = (): Rec[] => JSON.parse(run(["audit", "list", "--json"]).stdout.toString());
  const last = () => audit().at(-1)?.seq ?? 0;
  const rewraps = (since: number) =>
    audit()
      .filter((r) => r.seq > since && r.operation === "rewrap")
      .map((r) => [r.keyName, r.keyVersion, r.outcome, r.errorCode]);
  const versions = (file: string) =>
    JSON.parse(run(["inspect", "--json", f(file)]).stdout.toString()).keys.map((k: { keyName: string; keyVersion: number }) => `${k.keyName} v${k.keyVersion}`);
  const data = randomBytes(50_000);

  it("setup: files wrapped under two keys; both rotated; one old version destroyed", () => {
    expect(run(["init"]).status).toBe(0);
    for (const k of ["keys/a", "keys/b", "keys/c"]) expect(run(["key", "create", k]).status).toBe(0);
    writeFileSync(f("data.bin"), data);
    expect(run(["encrypt", "--key", "keys/a", "--key", "keys/b", "-o", f("two.pseal"), f("data.bin")]).status).toBe(0);
    expect(run(["encrypt", "--key", "keys/a", "--key", "keys/c", "-o", f("corrupt.pseal"), f("data.bin")]).status).toBe(0);
    expect(run(["encrypt", "--key", "keys/b", "-o", f("only-b.pseal"), f("data.bin")]).status).toBe(0);
    for (const k of ["keys/a", "keys/b", "keys/c"]) expect(run(["key", "rotate", k]).status).toBe(0);
    expect(run(["key", "destroy", "keys/b", "--version", "1", "--yes"]).status).toBe(0);
  });

  it("one entry under a destroyed version: the other is rewrapped and written, the bad one kept; CLI and audit say which", () => {
    const before = last();
    const r = run(["rewrap", f("two.pseal")]);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("[KEY_DESTROYED]");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const out = r.stdout.toString();
    expect(out).toContain("keys/a v1 -> v2");
    expect(out).toContain("keys/b v1 kept as it was (KEY_DESTROYED");
    expect(out).toContain("written with 1 of 2 entries rewrapped");
    expect(versions("two.pseal")).toEqual(["keys/a v2", "keys/b v1"]);
    expect(rewraps(before)).toEqual([
      ["keys/a", 1, "ok", null],
      ["keys/b", 1, "denied", "KEY_DESTROYED"],
    ]);
    expect(run(["decrypt", f("two.pseal"), "-o", "-"]).stdout.equals(data)).toBe(true);
    const json = run(["rewrap", "--json", f("two.pseal")]);
    expect(JSON.parse(json.stdout.toString())).toMatchObject([
      { changes: [{ keyName: "keys/a", from: 2, to: 2 }], kept: [{ keyName: "keys/b", version: 1, code: "KEY_DESTROYED" }], written: true },
    ]);
  });

  // format v2 (issue 19): a corrupted entry no longer rides along — the key block does not
  // authenticate, so the rewrap stops before anything is made or written (KEY_BLOCK_INVALID)
  it("a corrupted entry stops the rewrap (KEY_BLOCK_INVALID): nothing is rewrapped or written", () => {
    const bytes = Buffer.from(readFileSync(f("corrupt.pseal")));
    const c = decodeHeader(bytes).wrappedKeys.find((k) => k.keyName === "keys/c")!;
    const at = bytes.indexOf(Buffer.from(c.wrapped));
    expect(at).toBeGreaterThan(0);
    bytes[at + 20]! ^= 0x40;
    writeFileSync(f("corrupt.pseal"), bytes);
    const before = last();
    const r = run(["rewrap", f("corrupt.pseal")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("[KEY_BLOCK_INVALID]");
    expect(readFileSync(f("corrupt.pseal")).equals(bytes)).toBe(true);
    expect(versions("corrupt.pseal")).toEqual(["keys/a v1", "keys/c v1"]);
    expect(rewraps(before)).toEqual([["keys/a", 1, "error", "KEY_BLOCK_INVALID"]]);
  });

  it("no entry can be rewrapped: nothing is written and no ok record is left", () => {
    const sealed = readFileSync(f("only-b.pseal"));
    const before = last();
    const r = run(["rewrap", f("only-b.pseal")]);
    expect(r.status).toBe(4);
    expect(r.stdout.toString()).toContain("not written: no entry could be rewrapped");
    expect(readFileSync(f("only-b.pseal")).equals(sealed)).toBe(true);
    expect(rewraps(before)).toEqual([["keys/b", 1, "denied", "KEY_DESTROYED"]]);
  });
});
