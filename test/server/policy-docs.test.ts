/** docs/policy.md stays true: its example parses and decides as shown; every operation and invariant id is documented. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decide, INVARIANTS, OPERATIONS, parsePolicy } from "../../src/server/policy/index.js";

const doc = readFileSync(new URL("../../docs/policy.md", import.meta.url), "utf8");

describe("docs/policy.md", () => {
  it("the example policy parses and decides as documented", () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const p = parsePolicy(yaml);
    const d = decide(p, {
      principal: "spiffe://acme.ml/prod/trainer",
      operation: "unwrap",
      keyName: "prod/datasets/raw",
      context: { dataset: "raw" },
      now: new Date("2025-06-02T10:00:00Z"),
    });
    expect(d).toEqual({
      allowed: true,
      rule: "trainers-read-datasets",
      reason: "rule trainers-read-datasets allows unwrap on prod/datasets/raw (role workload)",
    });
    expect(doc).toContain(`reason: "${d.reason}"`);
    const at = (who: string, operation: string, keyName: string | undefined, iso: string) =>
      decide(p, { principal: `spiffe://acme.ml/prod/${who}`, operation, ...(keyName ? { keyName } : {}), now: new Date(iso) });
    expect(at("ops-alice", "key.rotate", "prod/x", "2025-06-02T10:00:00Z").rule).toBe("admins-manage-prod");
    expect(at("ops-alice", "key.rotate", "prod/x", "2025-06-01T10:00:00Z").allowed).toBe(false); // Sunday
    expect(at("rotation-bot", "key.rotate", "prod/x", "2025-06-01T23:00:00Z").rule).toBe("nightly-rotation");
    expect(at("siem", "audit.export", undefined, "2025-06-01T23:00:00Z").rule).toBe("siem");
    expect(at("contractor", "encrypt", "prod/exports/a", "2025-03-10T00:00:00Z").allowed).toBe(false); // no binding, as the doc says
  });
  it("documents every operation and every invariant id", () => {
    for (const op of OPERATIONS) expect(doc, op).toContain(`\`${op}\``);
    for (const id of Object.values(INVARIANTS)) expect(doc, id).toContain(`\`${id}\``);
  });
});
