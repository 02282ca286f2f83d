/** `audit list` and `audit export` with the dashboard's filters (src/audit/filter.ts), through the built CLI on a real keystore. */
import { describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import path from "node:path";

describe("audit list / export --principal --key --operation --outcome", () => {
  const home = path.join(tempDir("pipeseal-audit-filter-"), "ks");
  const env = { PIPESEAL_HOME: home };

  it("list and export only the matching records; the export records its filter", () => {
    expect(cli(["init"], env).status).toBe(0);
    for (const args of [
      ["key", "create", "a"],
      ["key", "create", "b"],
      ["key", "rotate", "a"],
      ["key", "rotate", "b"],
      ["key", "rotate", "a"],
    ])
      expect(cli(args, env).status).toBe(0);
    const list = cli(["audit", "list", "--json", "--operation", "key.rotate", "--key", "a"], env);
    expect(list.status).toBe(0);
    const rows = JSON.parse(list.stdout.toString()) as { operation: string; keyName: string; keyVersion: number }[];
    expect(rows.map((r) => [r.operation, r.keyName, r.keyVersion])).toEqual([
      ["key.rotate", "a", 2],
      ["key.rotate", "a", 3],
    ]);
    const newest = JSON.parse(cli(["audit", "list", "--json", "--operation", "key.rotate", "--limit", "1"], env).stdout.toString()) as {
      keyName: string;
      keyVersion: number;
    }[];
    expect(newest.map((r) => `${r.keyName} v${r.keyVersion}`)).toEqual(["a v3"]);
    const exp = cli(["audit", "export", "--operation", "key.create", "--outcome", "ok"], env);
    expect(exp.status).toBe(0);
    const lines = exp.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { operation: string; key: string });
    expect(lines.map((l) => `${l.operation} ${l.key}`)).toEqual(["key.create a", "key.create b"]);
    const own = JSON.parse(cli(["audit", "list", "--json", "--operation", "audit.export"], env).stdout.toString()) as { context: string }[];
    expect(JSON.parse(own[0]!.context)).toEqual({ operation: "key.create", outcome: "ok" });
    const bad = cli(["audit", "list", "--outcome", "maybe"], env);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("pipeseal: outcome must be one of ok, denied, error [INVALID_ARGUMENT]\n");
  });
});
