/**
 * Secrets through the key service, on SQLite and on PostgreSQL: a workload writes and reads,
 * a key administrator writes but can never read (separation of duties, even under a rule
 * granting "*"), other namespaces and unbound identities are refused before parsing, every
 * read is audited with what it was for, and no store file or table holds the value.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteKeyring } from "../../src/client/index.js";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { type Harness, POLICY, WHO, runCli, startHarness } from "./api-harness.js";

const SECRETS_POLICY = POLICY.replace(
  "  - { id: audit,",
  `  - { id: secrets-llm, group: workloads, operations: [secret.read, secret.write], keys: ["secrets/llm"] }
  - { id: secrets-list, group: workloads, operations: [secret.list] }
  - { id: audit,`,
);

const pgAvailable = postgresBinDir() !== null;
let pg: TestPostgres | undefined;
beforeAll(async () => {
  if (pgAvailable) pg = await startPostgres();
}, 120_000);
afterAll(async () => pg?.stop());

const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? String(e),
  );

function secretSuite(kind: "sqlite" | "postgres", start: () => Promise<Harness>, storedBlobs: (h: Harness) => Promise<Buffer[]>): void {
  describe(`secrets through the key service (${kind})`, () => {
    let h: Harness;
    let trainer: RemoteKeyring;
    let admin: RemoteKeyring;
    const value = Buffer.from(`sk-${randomBytes(24).toString("hex")}`);

    beforeAll(async () => {
      h = await start();
      trainer = h.keyring("trainer");
      admin = h.keyring("admin");
    }, 60_000);
    afterAll(async () => h?.close());

    it("a workload sets and reads a secret; the read is audited with the reader and what it was for", async () => {
      const info = await trainer.secrets.set("llm/openai", value);
      expect(info).toMatchObject({ name: "llm/openai", primaryVersion: 1, keyName: "secrets/llm", createdBy: WHO.trainer });
      const got = await trainer.secrets.read("llm/openai", { for: "run: python3 train.py" });
      expect(got.value.equals(value)).toBe(true);
      expect(got.version).toBe(1);
      const records = await h.svc.store.listAudit();
      // the read's own records carry the rule that allowed it: no separate authz.secret.read beside them
      expect(records.filter((r) => r.operation === "authz.secret.read")).toEqual([]);
      const unwrap = records.filter((r) => r.operation === "secret-read").at(-1)!;
      expect(unwrap).toMatchObject({ principal: WHO.trainer, outcome: "ok", objectPath: "secret:llm/openai@v1" });
      expect(JSON.parse(unwrap.context!)).toMatchObject({ "@rule": "secrets-llm" });
      const read = records.filter((r) => r.operation === "secret.read").at(-1)!;
      expect(read).toMatchObject({ principal: WHO.trainer, outcome: "ok", keyName: "secrets/llm", objectPath: "secret:llm/openai" });
      // the reading process's pid, as a local read records it
      expect(JSON.parse(read.context!)).toMatchObject({ secret: "llm/openai", for: "run: python3 train.py", pid: String(process.pid), "@rule": "secrets-llm" });
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
      const shown = await trainer.secrets.show("llm/openai");
      expect(shown.lastRead).toMatchObject({ by: WHO.trainer, for: "run: python3 train.py", version: 1 });
    });

    it("a key administrator may write (a new version) but never read, whatever its rules say", async () => {
      const next = Buffer.from("rotated-" + randomBytes(8).toString("hex"));
      expect((await admin.secrets.set("llm/openai", next, "rotate")).primaryVersion).toBe(2);
      expect(await code(admin.secrets.read("llm/openai", { for: "curious" }))).toBe("ACCESS_DENIED");
      const denial = (await h.svc.store.listAudit()).filter((r) => r.operation === "authz.secret.read" && r.principal === WHO.admin).at(-1)!;
      expect(denial.outcome).toBe("denied");
      expect(JSON.parse(denial.context!)["@rule"]).toBe("builtin:admin-no-plaintext");
      // the workload reads the new primary, and the old version on request
      expect((await trainer.secrets.read("llm/openai", { for: "t" })).value.equals(next)).toBe(true);
      expect((await trainer.secrets.read("llm/openai", { version: 1, for: "t" })).value.equals(value)).toBe(true);
    });

    it("disable, enable and destroy a version: reads follow the state; the primary is never destroyed alone", async () => {
      expect(await code(trainer.secrets.change("llm/openai", "destroy", 2))).toBe("SECRET_STATE_CONFLICT"); // v2 is the primary
      await trainer.secrets.change("llm/openai", "disable", 1);
      expect(await code(trainer.secrets.read("llm/openai", { version: 1, for: "t" }))).toBe("SECRET_DISABLED");
      await trainer.secrets.change("llm/openai", "enable", 1);
      expect((await trainer.secrets.read("llm/openai", { version: 1, for: "t" })).value.equals(value)).toBe(true);
      const info = await admin.secrets.change("llm/openai", "destroy", 1); // a key administrator may shred what it cannot read
      expect(info.versions.find((v) => v.version === 1)).toMatchObject({ state: "destroyed" });
      expect(await code(trainer.secrets.read("llm/openai", { version: 1, for: "t" }))).toBe("SECRET_DESTROYED");
      expect(await code(trainer.secrets.change("llm/openai", "enable", 1))).toBe("SECRET_STATE_CONFLICT");
      expect(await code(h.keyring("stranger").secrets.change("llm/openai", "destroy", "all"))).toBe("ACCESS_DENIED");
      const last = (await h.svc.store.listAudit()).filter((r) => r.operation === "secret.destroy").at(-1)!;
      expect(last).toMatchObject({ principal: WHO.admin, outcome: "ok", objectPath: "secret:llm/openai" });
    });

    it("refuses another namespace, an unbound identity, a missing secret and a rotate of a missing secret", async () => {
      expect(await code(trainer.secrets.set("ops/db", Buffer.from("x".repeat(12))))).toBe("ACCESS_DENIED");
      expect(await code(trainer.secrets.read("ops/db", { for: "t" }))).toBe("ACCESS_DENIED");
      expect(await code(h.keyring("stranger").secrets.read("llm/openai", { for: "t" }))).toBe("ACCESS_DENIED");
      expect(await code(h.keyring("auditor").secrets.list())).toBe("ACCESS_DENIED");
      // allowed secret.list, but nothing on the ops namespace: its secrets are neither listed nor shown
      await admin.secrets.set("ops/db", Buffer.from("db-password-1"));
      expect((await trainer.secrets.list()).map((s) => s.name)).not.toContain("ops/db");
      expect(await code(trainer.secrets.show("ops/db"))).toBe("ACCESS_DENIED");
      expect(await code(trainer.secrets.read("llm/nothing", { for: "t" }))).toBe("SECRET_NOT_FOUND");
      expect(await code(trainer.secrets.set("llm/nothing", Buffer.from("abcdefgh"), "rotate"))).toBe("SECRET_NOT_FOUND");
      expect(await code(trainer.secrets.read("Bad Name", { for: "t" }))).toBe("INVALID_ARGUMENT");
    });

    it("a token narrowed to secret.list cannot read", async () => {
      const { token } = await trainer.mintToken({ ttlSeconds: 60, operations: ["secret.list"] });
      const narrowed = h.keyring("trainer", { token });
      expect((await narrowed.secrets.list()).map((s) => s.name)).toContain("llm/openai");
      expect(await code(narrowed.secrets.read("llm/openai", { for: "t" }))).toBe("ACCESS_DENIED");
    });

    it("lists metadata only, and only namespaces the caller may read or write", async () => {
      const list = await trainer.secrets.list();
      expect(list.map((s) => s.name)).toEqual(["llm/openai"]);
      expect(JSON.stringify(list)).not.toContain(value.toString());
    });

    it("two writers at once get two distinct versions", async () => {
      const a = Buffer.from("concurrent-a-" + randomBytes(4).toString("hex"));
      const b = Buffer.from("concurrent-b-" + randomBytes(4).toString("hex"));
      await Promise.all([trainer.secrets.set("llm/race", a), h.keyring("trainer").secrets.set("llm/race", b)]);
      const info = await trainer.secrets.show("llm/race");
      expect(info.versions.map((v) => v.version)).toEqual([1, 2]);
      const v1 = (await trainer.secrets.read("llm/race", { version: 1, for: "t" })).value.toString();
      const v2 = (await trainer.secrets.read("llm/race", { version: 2, for: "t" })).value.toString();
      expect(new Set([v1, v2])).toEqual(new Set([a.toString(), b.toString()]));
    });

    it("the store holds no plaintext value", async () => {
      const blobs = await storedBlobs(h);
      expect(blobs.length).toBeGreaterThan(0);
      for (const b of blobs) expect(b.includes(value)).toBe(false);
    });

    it("the CLI: secret set, list, get, and run hand a secret from the key service to one child", async () => {
      const dir = h.dir;
      const file = path.join(dir, "hf.txt");
      const token = `hf_${randomBytes(20).toString("hex")}`;
      writeFileSync(file, token + "\n");
      const remote = ["--server", h.svc.url, "--cert", h.certs.trainer];
      const env = { PIPESEAL_KEYRING_ID: "ks:test" };
      const set = await runCli([...remote, "secret", "set", "llm/hf", "--from-file", file, "--json"], env);
      expect(set.stderr).toBe("");
      expect(JSON.parse(set.stdout.toString())).toMatchObject({ name: "llm/hf", primaryVersion: 1 });
      const list = await runCli([...remote, "secret", "list", "--json"], env);
      expect(JSON.parse(list.stdout.toString()).map((s: { name: string }) => s.name)).toContain("llm/hf");
      const get = await runCli([...remote, "secret", "get", "llm/hf", "--reveal", "--to-stdout"], env);
      expect(get.stdout.toString()).toBe(token);
      const run = await runCli(
        [
          ...remote,
          "run",
          "--secret",
          "HF_TOKEN=llm/hf",
          "--",
          "/usr/bin/python3",
          "-c",
          "import os,hashlib;print(hashlib.sha256(os.environ['HF_TOKEN'].encode()).hexdigest())",
        ],
        env,
      );
      expect(run.stderr).toBe("");
      expect(run.stdout.toString().trim()).toBe(createHash("sha256").update(token).digest("hex"));
      const read = (await h.svc.store.listAudit()).filter((r) => r.operation === "secret.read").at(-1)!;
      expect(JSON.parse(read.context!)).toMatchObject({ for: expect.stringMatching(/^run: \/usr\/bin\/python3/), pid: expect.stringMatching(/^[1-9]\d*$/) });
      expect(JSON.parse(read.context!).pid).not.toBe(String(process.pid)); // the CLI's own process, not this test's
      // a key administrator's run starts nothing
      const denied = await runCli(
        ["--server", h.svc.url, "--cert", h.certs.admin, "run", "--secret", "HF_TOKEN=llm/hf", "--", "/usr/bin/touch", path.join(dir, "started")],
        env,
      );
      expect(denied.status).toBe(7);
      expect(denied.stderr).toMatch(/^pipeseal: .*\[ACCESS_DENIED\]\n$/);
      expect(readdirSync(dir)).not.toContain("started");
      // crypto-shredding through the service: afterwards the value is gone for every reader
      const destroy = await runCli([...remote, "secret", "destroy", "llm/hf", "--all", "--yes"], env);
      expect(destroy.stderr).toBe("");
      const gone = await runCli([...remote, "secret", "get", "llm/hf", "--reveal", "--to-stdout"], env);
      expect(gone.stdout.length).toBe(0);
      expect(gone.stderr).toMatch(/\[SECRET_DESTROYED\]\n$/);
    }, 60_000);
  });
}

secretSuite(
  "sqlite",
  () => startHarness({ policy: SECRETS_POLICY }),
  async (h) => {
    const dir = path.join(h.dir, "ks");
    return readdirSync(dir)
      .filter((f) => f.startsWith("keystore.db"))
      .map((f) => readFileSync(path.join(dir, f)));
  },
);

if (pgAvailable) {
  let n = 0;
  secretSuite(
    "postgres",
    async () => {
      const db = `ks_secrets_${n++}`;
      await pg!.createDatabase(db);
      return startHarness({
        policy: SECRETS_POLICY,
        postgresUrl: `postgresql://postgres@localhost:${pg!.port}/${db}?host=${encodeURIComponent(pg!.socketDir)}`,
      });
    },
    async () => {
      const client = new postgres.Client(pg!.poolConfig("ks_secrets_0"));
      await client.connect();
      try {
        const rows = (await client.query<{ sealed: Buffer; wrapped_dek: Buffer }>("SELECT sealed, wrapped_dek FROM secret_versions")).rows;
        const audit = (await client.query<{ t: string }>("SELECT string_agg(coalesce(context, ''), ' ') AS t FROM audit")).rows[0]!.t;
        return [...rows.flatMap((r) => [r.sealed, r.wrapped_dek]).filter((b): b is Buffer => b !== null), Buffer.from(audit)];
      } finally {
        await client.end();
      }
    },
  );
}
