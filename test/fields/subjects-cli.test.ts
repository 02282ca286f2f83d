import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { isErased, subjectKeys, type SubjectKey } from "../../src/fields/subjects/index.js";
import { cli } from "../cli/run-cli.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));

/** A separate Node process using the built library: prints keyId, version and a fingerprint of each key (never the key). */
function keysInChild(home: string, ns: string, ids: string[], purpose: string): { keyId: string; version?: number; fp?: string; erased?: boolean }[] {
  const script = `
    import { createHash } from "node:crypto";
    import { openKeystore } from ${JSON.stringify(path.join(DIST, "keys/index.js"))};
    import { subjectKeys } from ${JSON.stringify(path.join(DIST, "fields/subjects/index.js"))};
    const [home, ns, purpose, ...ids] = process.argv.slice(1);
    const ks = await openKeystore(home, { principal: "child" });
    const m = await subjectKeys(ks).keys(ns, ids, purpose);
    const out = ids.map((id) => { const r = m.get(id); return r.erased ? r : { keyId: r.keyId, version: r.version, fp: createHash("sha256").update(r.key).digest("hex") }; });
    ks.close();
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, home, ns, purpose, ...ids], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const fp = (k: SubjectKey) => createHash("sha256").update(k.key).digest("hex");

describe("subject keys across processes and the built CLI", () => {
  it("a subject's key is the same in every process; erasure through the CLI holds everywhere", async () => {
    const root = tempDir("pipeseal-subjects-cli-");
    const home = path.join(root, ".pipeseal");
    const env = { PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "dpo" };
    expect(cli(["init"], env).status).toBe(0);
    const ids = ["ann@example.com", "ben@example.com", "cat@example.com"];
    const first = keysInChild(home, "customers", ids, "fields/email");
    const second = keysInChild(home, "customers", ids, "fields/email");
    expect(second).toEqual(first);
    expect(new Set(first.map((x) => x.fp)).size).toBe(3);
    const ks = await openKeystore(home, { principal: "tester" });
    try {
      const here = await subjectKeys(ks).keys("customers", ids, "fields/email");
      expect(ids.map((id) => fp(here.get(id) as SubjectKey))).toEqual(first.map((x) => x.fp));
      expect(keysInChild(home, "customers", ids, "fields/phone").map((x) => x.fp)).not.toContain(first[0]?.fp);
    } finally {
      ks.close();
    }

    for (const [ns, why] of [
      ["nosuchns", /namespace "nosuchns" does not exist/],
      ["customers", /unknown in namespace "customers"/],
    ] as const) {
      const miss = cli(["subject", "erase", ns === "customers" ? "never-seen@example.com" : "ben@example.com", "--namespace", ns, "--yes"], env);
      expect(miss.status).toBe(2); // a silent miss is the worst answer to an erasure request
      expect(miss.stderr).toMatch(why);
      expect(miss.stderr).toMatch(/nothing was erased.*\[SUBJECT_NOT_FOUND\]/);
      expect(miss.stdout.toString()).toBe("");
    }
    const unasked = cli(["subject", "erase", "ben@example.com", "--namespace", "customers"], env);
    expect(unasked.status).toBe(2);
    expect(unasked.stderr).toMatch(/add --yes/);
    const erase = cli(["subject", "erase", "ben@example.com", "--namespace", "customers", "--json", "--yes"], env);
    expect(erase.status, erase.stderr).toBe(0);
    expect(JSON.parse(erase.stdout.toString()).erased[0]).toMatchObject({ keyId: first[1]?.keyId, alreadyErased: false, walTruncated: true });
    expect(erase.stdout.toString()).not.toContain("ben@");
    const again = cli(["subject", "erase", "ben@example.com", "--namespace", "customers", "--yes"], env);
    expect(again.stdout.toString()).toContain(`already erased ${first[1]?.keyId}`);
    const after = keysInChild(home, "customers", ids, "fields/email");
    expect(after[0]).toEqual(first[0]);
    expect(after[1]).toEqual({ erased: true, keyId: first[1]?.keyId });
    expect(after[2]).toEqual(first[2]);

    const status = cli(["subject", "status", "ben@example.com", "--namespace", "customers", "--json"], env);
    expect(JSON.parse(status.stdout.toString())).toMatchObject({ state: "erased", keyId: first[1]?.keyId, version: 1 });
    expect(JSON.parse(cli(["subject", "status", "nobody", "--namespace", "customers", "--json"], env).stdout.toString()).state).toBe("unknown");
    const list = cli(["subject", "list", "--namespace", "customers", "--refs", "--json"], env);
    const summary = JSON.parse(list.stdout.toString());
    expect(summary[0]).toMatchObject({ namespace: "customers", active: 2, erased: 1, keyName: "subjects/customers" });
    expect(list.stdout.toString()).not.toMatch(/@example\.com/);
    // bulk erase from stdin keeps ids out of argv
    const bulk = cli(["subject", "erase", "--ids-file", "-", "--namespace", "customers", "--yes"], env, "cat@example.com\n");
    expect(bulk.status, bulk.stderr).toBe(0);
    expect(keysInChild(home, "customers", ["cat@example.com"], "x")[0]?.erased).toBe(true);
    // recreation is deliberate
    expect(cli(["subject", "recreate", "ben@example.com", "--namespace", "customers"], env).status).toBe(2);
    const re = cli(["subject", "recreate", "ben@example.com", "--namespace", "customers", "--yes", "--json"], env);
    expect(JSON.parse(re.stdout.toString()).version).toBe(2);

    const audit = cli(["audit", "list", "--json"], env);
    const records = JSON.parse(audit.stdout.toString()) as { operation: string; principal: string; objectPath: string | null }[];
    expect(records.filter((r) => r.operation === "subject.erase").map((r) => r.principal)).toEqual(["dpo", "dpo", "dpo"]);
    expect(records.filter((r) => r.operation === "subject.recreate")).toHaveLength(1); // without --yes the CLI refuses before the library
    for (const file of ["keystore.db", "keystore.db-wal"].map((f) => path.join(home, f)).filter(existsSync)) {
      const bytes = readFileSync(file);
      for (const id of ids) expect(bytes.includes(Buffer.from(id)), `${id} in ${file}`).toBe(false);
    }
  });

  it("10,000 new subjects: one transaction, one aggregate audit record, bounded time; cached lookups are cheap", async () => {
    const { ks, home } = await freshKeystore([]);
    const keys = subjectKeys(ks);
    const ids = Array.from({ length: 10_000 }, (_, i) => `subject-${i}-${"x".repeat(8)}@corp.example`);
    const t0 = performance.now();
    const made = await keys.keys("bulk", ids, "fields/email");
    const createMs = performance.now() - t0;
    expect(made.size).toBe(10_000);
    expect(createMs).toBeLessThan(15_000);
    const creates = ks.listAudit().filter((r) => r.operation === "subject.create");
    expect(creates).toHaveLength(1);
    expect(JSON.parse(creates[0]!.context!)).toEqual({ namespace: "bulk", subjects: "10000" });
    // 200,000 cached single lookups (a 1M-record file with repeat subjects looks like this)
    const t1 = performance.now();
    for (let i = 0; i < 200_000; i++) {
      const r = await keys.key("bulk", ids[i % ids.length] as string, "fields/email");
      if (isErased(r)) throw new Error("erased");
      r.key.fill(0);
    }
    const lookupMs = performance.now() - t1;
    expect(lookupMs).toBeLessThan(10_000);
    // misses issued together are created together
    const t2 = performance.now();
    const burst = await Promise.all(Array.from({ length: 2000 }, (_, i) => keys.key("bulk", `burst-${i}`, "fields/email")));
    const burstMs = performance.now() - t2;
    expect(burst.every((r) => !isErased(r))).toBe(true);
    expect(ks.listAudit().filter((r) => r.operation === "subject.create")).toHaveLength(2);
    const bytes = Buffer.concat(
      ["keystore.db", "keystore.db-wal"]
        .map((f) => path.join(home, f))
        .filter(existsSync)
        .map((f) => readFileSync(f)),
    );
    for (const id of [ids[0], ids[4242], ids[9999], "burst-7"]) expect(bytes.includes(Buffer.from(id as string))).toBe(false);
    console.log(`subjects: 10k created in ${createMs.toFixed(0)} ms; 200k cached lookups in ${lookupMs.toFixed(0)} ms; 2k burst in ${burstMs.toFixed(0)} ms`);
  });
});
