import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

describe("pipeseal corpus (built CLI)", () => {
  it("add, query with filters and vectors, erase a subject, stats, purge; every query audited", () => {
    const root = tempDir("pipeseal-corpus-cli-");
    const env = { PIPESEAL_HOME: path.join(root, ".pipeseal"), PIPESEAL_PRINCIPAL: "rag-svc" };
    expect(cli(["init"], env).status).toBe(0);
    const chunks = [
      { id: "kb#1", text: "Reset your password from the account page.", metadata: { tenant: "acme", kind: "kb" }, vector: [1, 0, 0] },
      { id: "kb#2", text: "Invoices are emailed monthly.", metadata: { tenant: "acme", kind: "kb" }, vector: [0, 1, 0] },
      {
        id: "tk#9",
        text: "Dana Mbeki reported a billing error on card 4111.",
        metadata: { tenant: "acme", kind: "ticket" },
        vector: [0.2, 0.9, 0],
        subject: "dana@corp.example",
      },
      { id: "kb#3", text: "Globex uses SSO only.", metadata: { tenant: "globex", kind: "kb" }, vector: [0, 0, 1] },
    ];
    const jsonl = path.join(root, "chunks.jsonl");
    writeFileSync(jsonl, chunks.map((c) => JSON.stringify(c)).join("\n") + "\n");
    const add = cli(
      ["corpus", "add", "support", jsonl, "--filter-fields", "tenant,kind", "--vectors", "encrypted", "--subject-namespace", "customers", "--json"],
      env,
    );
    expect(add.status, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout.toString())).toEqual({ corpus: "support", added: 4, replaced: 0 });

    const q = cli(["corpus", "query", "support", "--filter", "tenant=acme", "--filter", "kind=kb", "--k", "5", "--json"], env);
    expect(q.status, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout.toString()).chunks.map((c: { id: string }) => c.id)).toEqual(["kb#1", "kb#2"]);
    const qv = path.join(root, "q.json");
    writeFileSync(qv, JSON.stringify([0, 1, 0]));
    const ranked = cli(["corpus", "query", "support", "--vector-file", qv, "--k", "2", "--json"], env);
    expect(JSON.parse(ranked.stdout.toString()).chunks.map((c: { id: string }) => c.id)).toEqual(["kb#2", "tk#9"]);
    const humanOut = cli(["corpus", "query", "support", "--vector-file", qv, "--k", "2"], env).stdout.toString();
    expect(humanOut).toContain("Invoices are emailed monthly.");
    expect(humanOut).toContain("2 chunk(s)");

    const bytes = readFileSync(path.join(root, ".pipeseal", "corpus.db"));
    for (const s of ["Dana Mbeki", "4111", "Invoices", "dana@corp.example", "kb#1", "globex"]) expect(bytes.includes(Buffer.from(s)), s).toBe(false);

    const erased = cli(["subject", "erase", "dana@corp.example", "--namespace", "customers", "--yes"], env);
    expect(erased.status, erased.stderr).toBe(0);
    const afterErase = JSON.parse(cli(["corpus", "query", "support", "--vector-file", qv, "--k", "2", "--json"], env).stdout.toString());
    expect(afterErase.chunks.map((c: { id: string }) => c.id)).toEqual(["kb#2", "kb#1"]);
    expect(afterErase.erased).toBe(1);

    const stats = JSON.parse(cli(["corpus", "stats", "--json"], env).stdout.toString());
    expect(stats[0]).toMatchObject({
      name: "support",
      chunks: 4,
      subjectChunks: 1,
      vectors: "encrypted",
      dimensions: 3,
      filterFields: ["kind", "tenant"],
      subjectNamespace: "customers",
    });
    const purge = cli(["corpus", "purge", "support", "--json"], env);
    expect(JSON.parse(purge.stdout.toString())).toEqual({ purged: 1 });
    expect(cli(["corpus", "query", "support", "--filter", "tenant:=3", "--k", "1"], env).status).toBe(0);
    expect(cli(["corpus", "query", "support", "--filter", "body=x", "--k", "1"], env).stderr).toContain("not a filter field");

    const audit = JSON.parse(cli(["audit", "list", "--json"], env).stdout.toString()) as { operation: string; principal: string; context: string | null }[];
    const retrievals = audit.filter((r) => r.operation === "corpus.retrieve");
    expect(retrievals).toHaveLength(5); // every query that ran; the unknown filter field was refused before any key use
    expect(retrievals.every((r) => r.principal === "rag-svc")).toBe(true);
    expect(JSON.parse(retrievals[0]!.context!)).toMatchObject({ corpus: "support", filterFields: "kind,tenant", returned: "2" });
    expect(retrievals.map((r) => r.context).join(" ")).not.toContain("acme");
  });
});
