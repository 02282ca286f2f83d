import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

/**
 * Issue 22 item 7: a value sealed for subject A, moved into a record whose clear subject is B
 * (or a record whose subject field is edited to B), must not reveal as B's data, must never be
 * rewrapped under B's key, and after `subject erase A` no copy of A's data may reveal.
 */
describe("subject binding of field values (built CLI)", () => {
  const dir = tempDir("pipeseal-subject-bind-");
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "dpo" };
  const run = (args: string[], input?: string) => cli(args, env, input);
  const f = (n: string) => path.join(dir, n);
  const lines = (n: string) =>
    readFileSync(f(n), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const write = (n: string, rows: Record<string, unknown>[]) => writeFileSync(f(n), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const policy = f("fields.yaml");

  function setup(): void {
    expect(run(["init"]).status).toBe(0);
    expect(run(["key", "create", "fields/pii"]).status).toBe(0);
    writeFileSync(
      policy,
      [
        "version: 1",
        "namespace: customers",
        "key: fields/pii",
        "recordId: id",
        "rules:",
        "  - { field: diagnosis, action: encrypt, subject: customer_id }",
        "  - { field: email, action: deterministic, subject: customer_id }",
        "  - { field: customer_id, action: keep }",
        "  - { field: id, action: keep }",
      ].join("\n") + "\n",
    );
    write("clear.jsonl", [
      { id: "r1", customer_id: "A", diagnosis: "A's diagnosis", email: "a@example.com" },
      { id: "r2", customer_id: "B", diagnosis: "B's diagnosis", email: "b@example.com" },
    ]);
    const apply = run(["fields", "apply", "--policy", policy, f("clear.jsonl"), "-o", f("sealed.jsonl")]);
    expect(apply.status, apply.stderr).toBe(0);
  }

  function expectRefused(args: string[], row: number, field: string): void {
    const r = run(args);
    expect(r.status, r.stderr).toBe(6);
    expect(r.stderr).toContain("[FIELD_MALFORMED]");
    expect(r.stderr).toContain(`row ${row}`);
    expect(r.stderr).toContain(field);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout.toString()).not.toContain("A's diagnosis");
    expect(r.stdout.toString()).not.toContain("a@example.com");
  }

  it("an untouched file reveals and rewraps; a value moved to another subject's record is refused on reveal and rewrap; after erasing A nothing of A reveals", () => {
    setup();
    const ok = run(["fields", "reveal", "--policy", policy, f("sealed.jsonl"), "-o", "-"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.toString()).toContain("A's diagnosis");
    const rw = run(["fields", "rewrap", "--policy", policy, f("sealed.jsonl"), "-o", f("rewrapped-ok.jsonl")]);
    expect(rw.status, rw.stderr).toBe(0);

    const [a, b] = lines("sealed.jsonl") as [Record<string, unknown>, Record<string, unknown>];
    // attack 1: edit the clear subject of A's record to B (the record id, and so the AAD's record binding, stays)
    write("relabelled.jsonl", [{ ...a, customer_id: "B" }, b]);
    expectRefused(["fields", "reveal", "--policy", policy, f("relabelled.jsonl"), "-o", "-"], 1, "diagnosis");
    expectRefused(["fields", "rewrap", "--policy", policy, f("relabelled.jsonl"), "-o", f("rewrapped-1.jsonl")], 1, "diagnosis");
    // attack 2: move A's deterministic value (no record binding) into B's record
    write("moved.jsonl", [a, { ...b, email: a.email }]);
    expectRefused(["fields", "reveal", "--policy", policy, f("moved.jsonl"), "-o", "-"], 2, "email");
    expectRefused(["fields", "rewrap", "--policy", policy, f("moved.jsonl"), "-o", f("rewrapped-2.jsonl")], 2, "email");
    // skipping bad rows never rewraps the moved value either: the row is left out
    const skipped = run(["fields", "rewrap", "--policy", policy, f("moved.jsonl"), "-o", f("rewrapped-3.jsonl"), "--on-error", "skip", "--json"]);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stderr)).toMatchObject({ rows: 1, skipped: 1, errors: [{ row: 2, code: "FIELD_MALFORMED" }] });
    expect(lines("rewrapped-3.jsonl").map((r) => r.id)).toEqual(["r1"]); // B's record, holding A's value, is not written

    expect(run(["subject", "erase", "A", "--namespace", "customers", "--yes"]).status).toBe(0);
    for (const file of ["sealed.jsonl", "rewrapped-ok.jsonl", "relabelled.jsonl", "moved.jsonl", "rewrapped-3.jsonl"]) {
      const r = run(["fields", "reveal", "--policy", policy, f(file), "-o", "-", "--on-error", "skip"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.toString(), file).not.toContain("A's diagnosis");
      expect(r.stdout.toString(), file).not.toContain("a@example.com");
      if (file !== "relabelled.jsonl") expect(r.stdout.toString(), file).toContain("[ERASED]");
    }
  });
});
