import { readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { DecryptError } from "../../src/errors.js";
import { openKeystore } from "../../src/keys/index.js";
import { cosine, openCorpus, type ChunkInput } from "../../src/fields/corpus/index.js";
import { subjectKeys } from "../../src/fields/subjects/index.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const docs: ChunkInput[] = [
  { id: "handbook#0", text: "Refunds are processed within fourteen days.", metadata: { tenant: "acme", lang: "en", page: 3 }, vector: [1, 0, 0, 0] },
  { id: "handbook#1", text: "Passwords rotate every ninety days.", metadata: { tenant: "acme", lang: "en", page: 7 }, vector: [0, 1, 0, 0] },
  { id: "globex#0", text: "Globex ships on Tuesdays only.", metadata: { tenant: "globex", lang: "en", page: 1 }, vector: [0.9, 0.1, 0, 0] },
  { id: "globex#1", text: "Les remboursements prennent quatorze jours.", metadata: { tenant: "globex", lang: "fr", page: 2 }, vector: [0, 0, 1, 0] },
];

async function setup(vectors: "plain" | "encrypted" = "plain") {
  const { ks, home } = await freshKeystore([]);
  const file = path.join(home, "corpus.db");
  const corpus = await openCorpus(ks, { file, name: "support", create: { vectors, filterFields: ["tenant", "lang"], subjectNamespace: "customers" } });
  return { ks, home, file, corpus };
}

function rows(file: string, sql: string, ...args: unknown[]) {
  const db = new Database(file);
  try {
    return db.prepare(sql).all(...args) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function exec(file: string, sql: string, ...args: unknown[]) {
  const db = new Database(file);
  try {
    db.prepare(sql).run(...args);
  } finally {
    db.close();
  }
}

describe("encrypted corpus", () => {
  it("round-trips chunks and filters on deterministic fields", async () => {
    const { corpus } = await setup();
    expect(await corpus.add(docs)).toEqual({ added: 4, replaced: 0 });
    const all = await corpus.retrieve({ k: 10 });
    expect(all.chunks.map((c) => c.id)).toEqual(docs.map((d) => d.id));
    expect(all.chunks[0]).toEqual({ id: "handbook#0", text: docs[0]?.text, metadata: docs[0]?.metadata });
    const acme = await corpus.retrieve({ k: 10, filter: { tenant: "acme" } });
    expect(acme.chunks.map((c) => c.id)).toEqual(["handbook#0", "handbook#1"]);
    const both = await corpus.retrieve({ k: 10, filter: { tenant: "globex", lang: "fr" } });
    expect(both.chunks.map((c) => c.id)).toEqual(["globex#1"]);
    expect((await corpus.retrieve({ k: 10, filter: { tenant: "nobody" } })).chunks).toEqual([]);
    await expect(corpus.retrieve({ k: 10, filter: { page: 3 } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const ranked = await corpus.retrieve({ k: 2, vector: [1, 0, 0, 0] });
    expect(ranked.chunks.map((c) => c.id)).toEqual(["handbook#0", "globex#0"]);
    expect(ranked.chunks[0]?.score).toBeCloseTo(1, 6);
    // replace by id
    expect(await corpus.add([{ ...docs[0]!, text: "Refunds now take seven days." }])).toEqual({ added: 0, replaced: 1 });
    const again = await corpus.retrieve({ k: 10, filter: { tenant: "acme" } });
    expect(again.chunks.map((c) => [c.id, c.text])).toEqual([
      ["handbook#1", docs[1]?.text],
      ["handbook#0", "Refunds now take seven days."],
    ]);
    corpus.close();
  });

  it("keeps no plaintext text, metadata, id or subject id in corpus.db or keystore.db", async () => {
    const { ks, home, file, corpus } = await setup("encrypted");
    await corpus.add([
      ...docs,
      {
        id: "ticket-4411",
        text: "Customer Zanzibar Quux asked about invoice 88812.",
        metadata: { tenant: "acme", email: "zq@example.org" },
        subject: "cust-zq-777",
      },
    ]);
    corpus.close();
    ks.close();
    const bytes = Buffer.concat([readFileSync(file), readFileSync(path.join(home, "keystore.db"))]);
    const secrets = [
      "fourteen days",
      "Globex ships",
      "remboursements",
      "Zanzibar",
      "88812",
      "zq@example.org",
      "handbook#0",
      "ticket-4411",
      "cust-zq-777",
      '"tenant":"acme"',
      "globex",
    ];
    for (const s of secrets) expect(bytes.includes(Buffer.from(s, "utf8")), s).toBe(false);
    // the blind index column holds 16-byte tags, not values
    expect(rows(file, "SELECT DISTINCT field FROM chunk_tags ORDER BY field").map((r) => r.field)).toEqual(["lang", "tenant"]);
  });

  it("a tampered row or a swapped value fails with DecryptError, and the failure is audited", async () => {
    const { ks, file, corpus } = await setup();
    await corpus.add(docs);
    const [a, b] = rows(file, "SELECT seq, text_ct FROM chunks ORDER BY seq LIMIT 2") as { seq: number; text_ct: Buffer }[];
    // swap: chunk b's text ciphertext moved into chunk a (AAD binds the chunk)
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", b!.text_ct, a!.seq);
    await expect(corpus.retrieve({ k: 1 })).rejects.toBeInstanceOf(DecryptError);
    // tamper: one flipped bit
    const flipped = Buffer.from(a!.text_ct);
    flipped[20]! ^= 1;
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", flipped, a!.seq);
    await expect(corpus.retrieve({ k: 1 })).rejects.toBeInstanceOf(DecryptError);
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", a!.text_ct, a!.seq);
    expect((await corpus.retrieve({ k: 1 })).chunks[0]?.id).toBe("handbook#0");
    const failed = ks.listAudit().filter((r) => r.operation === "corpus.retrieve" && r.outcome !== "ok");
    expect(failed).toHaveLength(2);
    expect(failed[0]?.errorCode).toBe("DECRYPT_FAILED");
    corpus.close();
  });

  it("a stored value that cannot be iv ‖ ciphertext ‖ tag, a bad subject reference or a ragged vector is FIELD_MALFORMED; a flip stays DECRYPT_FAILED", async () => {
    const { file, corpus } = await setup();
    await corpus.add([...docs.slice(0, 1), { id: "t1", text: "Alice's ticket", metadata: { tenant: "acme" }, vector: [1, 0, 0, 0.1], subject: "alice" }]);
    const [a, t] = rows(file, "SELECT seq, text_ct, subject_key_id, vector FROM chunks ORDER BY seq") as {
      seq: number;
      text_ct: Buffer;
      subject_key_id: string;
      vector: Buffer;
    }[];
    const attempt = () => corpus.retrieve({ k: 2, vector: [1, 0, 0, 0] });
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", a!.text_ct.subarray(0, 27), a!.seq);
    await expect(attempt()).rejects.toMatchObject({ code: "FIELD_MALFORMED" });
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", a!.text_ct.subarray(0, a!.text_ct.length - 1), a!.seq);
    await expect(attempt()).rejects.toBeInstanceOf(DecryptError); // well-formed but truncated: the tag fails
    exec(file, "UPDATE chunks SET text_ct = ? WHERE seq = ?", a!.text_ct, a!.seq);
    exec(file, "UPDATE chunks SET vector = ? WHERE seq = ?", a!.vector.subarray(0, 15), a!.seq);
    await expect(attempt()).rejects.toMatchObject({ code: "FIELD_MALFORMED" });
    exec(file, "UPDATE chunks SET vector = ? WHERE seq = ?", a!.vector, a!.seq);
    for (const bad of ["customers:short", "Customers" + t!.subject_key_id.slice(9), t!.subject_key_id.replace(":", "~")]) {
      exec(file, "UPDATE chunks SET subject_key_id = ? WHERE seq = ?", bad, t!.seq);
      await expect(attempt()).rejects.toMatchObject({ code: "FIELD_MALFORMED" });
      await expect(corpus.purgeErased()).rejects.toMatchObject({ code: "FIELD_MALFORMED" });
    }
    exec(file, "UPDATE chunks SET subject_key_id = ?, subject_version = 0 WHERE seq = ?", t!.subject_key_id, t!.seq);
    await expect(attempt()).rejects.toMatchObject({ code: "FIELD_MALFORMED" });
    exec(file, "UPDATE chunks SET subject_version = 1 WHERE seq = ?", t!.seq);
    expect((await attempt()).chunks.map((c) => c.id)).toEqual(["handbook#0", "t1"]);
    corpus.close();
  });

  it("a corpus renamed in the file does not open (the name is bound into the key wrap and every AAD)", async () => {
    const { ks, file, corpus } = await setup();
    await corpus.add(docs);
    corpus.close();
    const db = new Database(file);
    db.pragma("foreign_keys = OFF");
    db.prepare("UPDATE corpora SET name = 'other'").run();
    db.prepare("UPDATE chunks SET corpus = 'other'").run();
    db.close();
    await expect(openCorpus(ks, { file, name: "other" })).rejects.toBeInstanceOf(DecryptError);
    await expect(openCorpus(ks, { file, name: "support" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("audits every retrieval: corpus, principal, filter field names (not values), chunks returned", async () => {
    const { ks, corpus } = await setup();
    await corpus.add(docs);
    const before = ks.listAudit().filter((r) => r.operation === "corpus.retrieve").length;
    await corpus.retrieve({ k: 1, filter: { tenant: "globex" }, onBehalfOf: "user-42" });
    await corpus.retrieve({ k: 3, vector: [0, 1, 0, 0] });
    await corpus.retrieve({ k: 5, filter: { tenant: "nobody" } });
    const recs = ks.listAudit().filter((r) => r.operation === "corpus.retrieve");
    expect(recs.length - before).toBe(3);
    const [first, second, third] = recs.slice(before);
    expect(first).toMatchObject({ principal: "tester", outcome: "ok", objectPath: "corpus:support", keyName: "corpus/support" });
    expect(JSON.parse(first!.context!)).toEqual({
      corpus: "support",
      filterFields: "tenant",
      k: "1",
      vector: "no",
      returned: "1",
      erased: "0",
      onBehalfOf: "user-42",
    });
    expect(first!.context).not.toContain("globex");
    expect(JSON.parse(second!.context!)).toMatchObject({ filterFields: "", vector: "yes", returned: "3" });
    expect(JSON.parse(third!.context!)).toMatchObject({ returned: "0" });
    expect(ks.verifyAudit().ok).toBe(true);
    corpus.close();
  });

  for (const vectors of ["plain", "encrypted"] as const) {
    it(`erased subjects' chunks disappear from results and are counted (${vectors} vectors)`, async () => {
      const { ks, home, file, corpus } = await setup(vectors);
      await corpus.add([
        ...docs,
        { id: "t1", text: "Alice's ticket", metadata: { tenant: "acme" }, vector: [1, 0, 0, 0.1], subject: "alice" },
        { id: "t2", text: "Bob's first ticket", metadata: { tenant: "acme" }, vector: [1, 0, 0, 0.2], subject: "bob" },
        { id: "t3", text: "Bob's second ticket", metadata: { tenant: "globex" }, vector: [0, 1, 0, 0.2], subject: "bob" },
      ]);
      const before = await corpus.retrieve({ k: 10, filter: { tenant: "acme" } });
      expect(before.chunks.map((c) => c.id)).toEqual(["handbook#0", "handbook#1", "t1", "t2"]);
      expect(before.chunks[2]?.subjectKeyId).toMatch(/^customers:/);
      // erased from another handle (as `pipeseal subject erase` would), seen at once
      const admin = await openKeystore(home, { principal: "dpo" });
      await subjectKeys(admin).erase("customers", "bob");
      admin.close();
      const after = await corpus.retrieve({ k: 10, filter: { tenant: "acme" } });
      expect(after.chunks.map((c) => c.id)).toEqual(["handbook#0", "handbook#1", "t1"]);
      expect(after.erased).toBe(1);
      const ranked = await corpus.retrieve({ k: 3, vector: [1, 0, 0, 0.2] });
      expect(ranked.chunks.map((c) => c.id)).not.toContain("t2");
      expect(ranked.erased).toBe(2);
      await expect(corpus.add([{ id: "t4", text: "new", subject: "bob" }])).rejects.toMatchObject({ code: "KEY_DESTROYED" });
      expect(await corpus.purgeErased()).toEqual({ purged: 2 });
      expect(rows(file, "SELECT COUNT(*) AS n FROM chunks")[0]?.n).toBe(5);
      expect((await corpus.retrieve({ k: 10 })).erased).toBe(0);
      expect(ks.listAudit().some((r) => r.operation === "corpus.purge")).toBe(true);
      corpus.close();
    });
  }

  it("encrypted-vector search returns the same top-k as plain search and a reference ranking", async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const chunks: ChunkInput[] = Array.from({ length: 200 }, (_, i) => ({
      id: `c${i}`,
      text: `chunk ${i}`,
      metadata: { tenant: i % 2 ? "a" : "b" },
      vector: Array.from({ length: 16 }, rnd),
    }));
    const queries = Array.from({ length: 5 }, () => Array.from({ length: 16 }, rnd));
    const results: string[][][] = [];
    for (const vectors of ["plain", "encrypted"] as const) {
      const { corpus } = await setup(vectors);
      await corpus.add(chunks);
      const out: string[][] = [];
      for (const q of queries) out.push((await corpus.retrieve({ k: 10, vector: q })).chunks.map((c) => c.id));
      out.push((await corpus.retrieve({ k: 10, vector: queries[0]!, filter: { tenant: "a" } })).chunks.map((c) => c.id));
      results.push(out);
      corpus.close();
    }
    expect(results[1]).toEqual(results[0]);
    const f32 = (v: readonly number[]) => Array.from(new Float32Array(v));
    for (const [i, q] of queries.entries()) {
      const ref = chunks
        .map((c, seq) => ({ id: c.id, seq, score: cosine(q, f32(c.vector!)) }))
        .sort((x, y) => y.score - x.score || x.seq - y.seq)
        .slice(0, 10)
        .map((x) => x.id);
      expect(results[0]?.[i]).toEqual(ref);
    }
  });

  it("refuses bad input without writing anything", async () => {
    const { corpus, file } = await setup();
    await expect(corpus.add([{ id: "", text: "x" }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      corpus.add([
        { id: "a", text: "x", vector: [1, 2] },
        { id: "b", text: "y", vector: [1, 2, 3] },
      ]),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(corpus.add([{ id: "a", text: "x", metadata: { tenant: { nested: true } } }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(rows(file, "SELECT COUNT(*) AS n FROM chunks")[0]?.n).toBe(0);
    await expect(corpus.retrieve({ k: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    corpus.close();
    const dir = tempDir();
    const { ks } = await freshKeystore([]);
    await expect(openCorpus(ks, { file: path.join(dir, "none.db"), name: "x" })).rejects.toMatchObject({ code: "KEYSTORE_NOT_INITIALIZED" });
  });
});
