/** The key service API over real mTLS: every operation round trips, with the policy's separation of duties. */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/types.js";
import type { KeyServiceClient } from "../../src/client/index.js";
import type { WrappedKey } from "../../src/keys/keyring.js";
import { MAX_BATCH } from "../../src/server/schemas.js";
import { type Harness, WHO } from "./api-harness.js";

/** Makes every insert into the service's audit table fail (a trigger that raises), and undoes it, as store.suite.ts does. */
export interface AuditFaults {
  breakAudit(h: Harness): Promise<void>;
  repairAudit(h: Harness): Promise<void>;
}

/** The API suite; api.test.ts runs it on SQLite, api-postgres.test.ts on PostgreSQL. */
export function apiSuite(store: "sqlite" | "postgres", start: () => Promise<Harness>, faults: AuditFaults): void {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => h?.close());

  const ctx = { dataset: "raw", stage: "landing" };
  const KEY = "prod/datasets/raw";

  /** The records the service added after `seq`. */
  const since = async (seq: number): Promise<AuditRecord[]> => (await h.svc.store.listAudit()).filter((r) => r.seq > seq);
  const headSeq = async (): Promise<number> => (await h.svc.store.listAudit({ limit: 1 }))[0]?.seq ?? 0;
  const toWire = (e: WrappedKey, forge = false) => {
    const wrapped = Buffer.from(e.wrapped);
    if (forge) wrapped[wrapped.length - 1]! ^= 1; // the GCM tag no longer matches
    return { keyName: e.keyName, keyVersion: e.keyVersion, wrapped: wrapped.toString("base64") };
  };

  type Results = { results: ({ plaintext: string } | { error: { code: string } })[] };
  /** Encrypts one payload per context (each item's context names it: `item`), as /v1/encrypt/batch does. */
  const sealEach = async (c: KeyServiceClient, contexts: Record<string, string>[]) => {
    const plaintexts = contexts.map((context) => Buffer.from(`payload ${context.item}`).toString("base64"));
    const r = await c.call<{ results: { ciphertext: string }[] }>("POST", "/v1/encrypt/batch", {
      items: plaintexts.map((plaintext, i) => ({ keyName: KEY, plaintext, context: contexts[i] })),
    });
    return { plaintexts, items: r.results.map((x, i) => ({ ciphertext: x.ciphertext, context: contexts[i] })) };
  };
  const itemCtx = (n: number) => Array.from({ length: n }, (_, i) => ({ ...ctx, item: `${i}` }));
  /** The `item` of a record's context (an allowed operation's record carries `@rule` beside it). */
  const itemOf = (r: AuditRecord) => (JSON.parse(r.context ?? "{}") as { item?: string }).item;
  /** The rule a record carries (the `rule` field of pipeseal.audit.v1), or undefined. */
  const ruleOf = (r: AuditRecord) => (JSON.parse(r.context ?? "{}") as { "@rule"?: string })["@rule"];

  describe(`key service API (${store})`, () => {
    it("serves health, readiness, info and an OpenAPI 3.1 document", async () => {
      const kr = h.keyring("trainer");
      expect(await kr.client.call("GET", "/healthz")).toEqual({ ok: true });
      expect(await kr.client.call("GET", "/readyz")).toEqual({ ok: true });
      expect(await kr.client.call("GET", "/v1/info")).toMatchObject({ keyringId: "ks:test", principal: WHO.trainer, store });
      const doc = await kr.client.call<{ openapi: string; paths: Record<string, unknown> }>("GET", "/v1/openapi.json");
      expect(doc.openapi).toBe("3.1.0");
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/unwrap", "/v1/keys/create", "/v1/tokens", "/v1/encrypt/batch"]));
    });

    it("key administration round trips for a key admin", async () => {
      const kr = h.keyring("admin");
      expect((await kr.createKey("prod/models/a", { rotateEverySeconds: 3600 })).primaryVersion).toBe(1);
      await expect(kr.createKey("prod/models/a")).rejects.toMatchObject({ code: "KEY_EXISTS", status: 409 });
      expect((await kr.rotateKey("prod/models/a")).primaryVersion).toBe(2);
      expect((await kr.listKeys()).map((k) => k.name)).toContain("prod/models/a");
      expect((await kr.showKey("prod/models/a")).versions).toHaveLength(2);
      expect((await kr.disableVersion("prod/models/a", 1)).versions[0]!.state).toBe("disabled");
      expect((await kr.enableVersion("prod/models/a", 1)).versions[0]!.state).toBe("enabled");
      expect((await kr.setMinDecryptVersion("prod/models/a", 2)).minDecryptVersion).toBe(2);
      expect((await kr.destroyVersion("prod/models/a", 1)).versions[0]!.state).toBe("destroyed");
      await expect(kr.showKey("prod/nope")).rejects.toMatchObject({ code: "KEY_NOT_FOUND", status: 404 });
    });

    it("wrap / unwrap / rewrap for a workload; the keyring id is the client's", async () => {
      const kr = h.keyring("trainer");
      const dk = randomBytes(32);
      const e = await kr.wrap("prod/datasets/raw", dk, ctx);
      expect(e.keyring).toBe("ks:test");
      expect(await kr.unwrap(e, ctx, { operation: "decrypt", path: "x.pseal" })).toEqual(dk);
      await expect(kr.unwrap(e, { ...ctx, stage: "other" }, { operation: "decrypt" })).rejects.toMatchObject({ code: "DECRYPT_FAILED", status: 400 });
      const r = await kr.rewrap(e, ctx, { operation: "rewrap" });
      expect(await kr.unwrap(r, ctx, { operation: "decrypt" })).toEqual(dk);
    });

    it("generate wrapped-only vs wrapped+plaintext", async () => {
      const kr = h.keyring("trainer");
      const only = await kr.client.call<{ wrappedKey: unknown; plaintext?: string }>("POST", "/v1/datakeys/generate-wrapped", {
        keyName: "prod/datasets/raw",
        context: ctx,
      });
      expect(only.plaintext).toBeUndefined();
      const both = await kr.client.call<{ wrappedKey: { keyName: string; keyVersion: number; wrapped: string }; plaintext: string }>(
        "POST",
        "/v1/datakeys/generate",
        { keyName: "prod/datasets/raw", context: ctx },
      );
      const back = await kr.client.call<{ plaintext: string }>("POST", "/v1/unwrap", { wrappedKey: both.wrappedKey, context: ctx });
      expect(back.plaintext).toBe(both.plaintext);
    });

    it("batch unwrap reports each item", async () => {
      const kr = h.keyring("trainer");
      const dk = randomBytes(32);
      const e = await kr.wrap("prod/datasets/raw", dk, ctx);
      const wk = { keyName: e.keyName, keyVersion: e.keyVersion, wrapped: Buffer.from(e.wrapped).toString("base64") };
      const r = await kr.client.call<{ results: ({ plaintext: string } | { error: { code: string } })[] }>("POST", "/v1/unwrap/batch", {
        items: [
          { wrappedKey: wk, context: ctx },
          { wrappedKey: wk, context: {} },
          { wrappedKey: { ...wk, keyName: "prod/missing" }, context: ctx },
        ],
      });
      expect(r.results[0]).toEqual({ plaintext: dk.toString("base64") });
      expect(r.results[1]).toMatchObject({ error: { code: "DECRYPT_FAILED" } });
      expect(r.results[2]).toMatchObject({ error: { code: "KEY_NOT_FOUND" } });
    });

    it("encrypt / decrypt small payloads, single and batch, bound to the context", async () => {
      const c = h.keyring("trainer").client;
      const pt = Buffer.from("hello key service");
      const { ciphertext } = await c.call<{ ciphertext: string }>("POST", "/v1/encrypt", {
        keyName: "prod/datasets/raw",
        plaintext: pt.toString("base64"),
        context: ctx,
      });
      expect((await c.call<{ plaintext: string }>("POST", "/v1/decrypt", { ciphertext, context: ctx })).plaintext).toBe(pt.toString("base64"));
      await expect(c.call("POST", "/v1/decrypt", { ciphertext, context: {} })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      const batch = await c.call<{ results: { ciphertext: string }[] }>("POST", "/v1/encrypt/batch", {
        items: [1, 2, 3].map((i) => ({ keyName: "prod/datasets/raw", plaintext: Buffer.from(`p${i}`).toString("base64") })),
      });
      const back = await c.call<{ results: { plaintext: string }[] }>("POST", "/v1/decrypt/batch", {
        items: batch.results.map((r) => ({ ciphertext: r.ciphertext })),
      });
      expect(back.results.map((r) => Buffer.from(r.plaintext, "base64").toString())).toEqual(["p1", "p2", "p3"]);
      const big = Buffer.alloc(64 * 1024 + 1).toString("base64");
      await expect(c.call("POST", "/v1/encrypt", { keyName: "prod/datasets/raw", plaintext: big })).rejects.toMatchObject({
        status: 400,
        serviceCode: "LIMIT_EXCEEDED",
      });
    });

    it("a decrypt is one commit and ONE record: the decrypt's own, carrying the rule that allowed it", async () => {
      const c = h.keyring("trainer").client;
      const { ciphertext } = await c.call<{ ciphertext: string }>("POST", "/v1/encrypt", {
        keyName: KEY,
        plaintext: Buffer.from("one commit").toString("base64"),
        context: ctx,
      });
      const head = await headSeq();
      const before = h.svc.store.commitStats();
      await c.call("POST", "/v1/decrypt", { ciphertext, context: ctx });
      expect(h.svc.store.commitStats().batches - before.batches).toBe(1);
      const added = await since(head);
      expect(added.map((r) => [r.seq - head, r.operation, r.outcome, r.principal, r.keyName, ruleOf(r)])).toEqual([
        [1, "decrypt", "ok", WHO.trainer, KEY, "train"],
      ]);
      expect(JSON.parse(added[0]!.context!)).toEqual({ ...ctx, "@rule": "train" }); // the context, and the rule beside it
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
    });

    it("batch unwrap is one commit: one record per item (its unwrap, with the rule) in item order; a forged entry fails alone", async () => {
      const kr = h.keyring("trainer");
      const n = MAX_BATCH; // n records, one per item: the whole group commits alone, in one transaction
      const forged = 5;
      const dks = Array.from({ length: n }, () => randomBytes(32));
      const entries = await Promise.all(dks.map((dk) => kr.wrap(KEY, dk, ctx)));
      const items = entries.map((e, i) => ({ wrappedKey: toWire(e, i === forged), context: ctx, object: { operation: "decrypt", path: `shard-${i}` } }));
      const head = await headSeq();
      const before = h.svc.store.commitStats();
      const r = await kr.client.call<{ results: ({ plaintext: string } | { error: { code: string } })[] }>("POST", "/v1/unwrap/batch", { items });
      const after = h.svc.store.commitStats();
      expect([after.batches - before.batches, after.jobs - before.jobs]).toEqual([1, n]);
      expect(r.results).toHaveLength(n);
      r.results.forEach((res, i) =>
        expect(res).toEqual(i === forged ? { error: expect.objectContaining({ code: "DECRYPT_FAILED" }) } : { plaintext: dks[i]!.toString("base64") }),
      );
      const added = await since(head);
      expect(added.map((x) => [x.operation, x.outcome, x.objectPath, ruleOf(x)])).toEqual(
        // a forged entry is recorded as an error of the operation, still with the rule that allowed it
        items.map((_, i) => ["decrypt", i === forged ? "error" : "ok", `shard-${i}`, "train"]),
      );
      expect(added.some((x) => x.operation.startsWith("authz."))).toBe(false);
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
    });

    it("batch unwrap fails closed: when its one commit fails, 503 and no item's key; nothing is recorded", async () => {
      const kr = h.keyring("trainer", { retry: { attempts: 1 } });
      const dks = Array.from({ length: 4 }, () => randomBytes(32));
      const items = await Promise.all(dks.map(async (dk) => ({ wrappedKey: toWire(await kr.wrap(KEY, dk, ctx)), context: ctx })));
      const count = (await h.svc.store.listAudit()).length;
      await faults.breakAudit(h);
      let raw: unknown;
      try {
        raw = await kr.client.call("POST", "/v1/unwrap/batch", { items }).catch((x: unknown) => x);
      } finally {
        await faults.repairAudit(h);
      }
      expect(raw).toMatchObject({ code: "AUDIT_WRITE_FAILED", status: 503 });
      for (const dk of dks) expect(JSON.stringify(raw)).not.toContain(dk.toString("base64"));
      expect((await h.svc.store.listAudit()).length).toBe(count);
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
      expect((await kr.client.call<{ results: unknown[] }>("POST", "/v1/unwrap/batch", { items })).results).toEqual(
        dks.map((dk) => ({ plaintext: dk.toString("base64") })),
      );
    });

    it("batch decrypt is one commit: one record per item (its decrypt, with the rule), in item order", async () => {
      const c = h.keyring("trainer").client;
      const n = MAX_BATCH; // n records, one per item: the whole group commits alone, in one transaction
      const { plaintexts, items } = await sealEach(c, itemCtx(n));
      const head = await headSeq();
      const before = h.svc.store.commitStats();
      const r = await c.call<Results>("POST", "/v1/decrypt/batch", { items });
      const after = h.svc.store.commitStats();
      expect([after.batches - before.batches, after.jobs - before.jobs]).toEqual([1, n]);
      expect(r.results).toEqual(plaintexts.map((plaintext) => ({ plaintext })));
      const added = await since(head);
      expect(added.map((x) => [x.operation, x.outcome, x.keyName, itemOf(x), ruleOf(x)])).toEqual(items.map((_, i) => ["decrypt", "ok", KEY, `${i}`, "train"]));
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
    });

    it("batch decrypt: a malformed ciphertext and a tampered payload fail alone, with their typed errors", async () => {
      const c = h.keyring("trainer").client;
      const { plaintexts, items } = await sealEach(c, itemCtx(5));
      const malformed = 1;
      const tampered = 3;
      items[malformed] = { ...items[malformed]!, ciphertext: Buffer.from("not a PSE1 payload").toString("base64") };
      const sealed = Buffer.from(items[tampered]!.ciphertext, "base64");
      sealed[sealed.length - 1]! ^= 1; // the payload's GCM tag no longer matches (its data key still unwraps)
      items[tampered] = { ...items[tampered]!, ciphertext: sealed.toString("base64") };
      const head = await headSeq();
      const before = h.svc.store.commitStats();
      const r = await c.call<Results>("POST", "/v1/decrypt/batch", { items });
      expect(h.svc.store.commitStats().batches - before.batches).toBe(1);
      expect(r.results).toEqual(
        plaintexts.map((plaintext, i) =>
          i === malformed
            ? { error: expect.objectContaining({ code: "INVALID_ARGUMENT" }) }
            : i === tampered
              ? { error: expect.objectContaining({ code: "DECRYPT_FAILED" }) }
              : { plaintext },
        ),
      );
      // a malformed item is refused before any decision; the tampered one was authorized, and its
      // decrypt is recorded as failed (its data key unwrapped, but no plaintext was released)
      const added = await since(head);
      expect(added.map((x) => `${x.operation}:${x.outcome}:${itemOf(x)}:${ruleOf(x)}`)).toEqual(
        ["0", "2", "3", "4"].map((i) => `decrypt:${i === "3" ? "error" : "ok"}:${i}:train`),
      );
      expect(added.find((x) => x.operation === "decrypt" && x.outcome === "error")?.errorCode).toBe("DECRYPT_FAILED");
    });

    it("decrypt of a tampered payload: DECRYPT_FAILED, and the decrypt is recorded as failed, not ok", async () => {
      const c = h.keyring("trainer").client;
      const { items } = await sealEach(c, itemCtx(1));
      const sealed = Buffer.from(items[0]!.ciphertext, "base64");
      sealed[sealed.length - 1]! ^= 1;
      const head = await headSeq();
      await expect(c.call("POST", "/v1/decrypt", { ...items[0], ciphertext: sealed.toString("base64") })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      expect((await since(head)).map((x) => `${x.operation}:${x.outcome}:${x.errorCode ?? ""}:${ruleOf(x)}`)).toEqual(["decrypt:error:DECRYPT_FAILED:train"]);
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
    });

    it("batch decrypt fails closed: when its one commit fails, 503 and no plaintext; nothing is recorded", async () => {
      const c = h.keyring("trainer", { retry: { attempts: 1 } }).client;
      const { plaintexts, items } = await sealEach(c, itemCtx(4));
      const count = (await h.svc.store.listAudit()).length;
      await faults.breakAudit(h);
      let raw: unknown;
      try {
        raw = await c.call("POST", "/v1/decrypt/batch", { items }).catch((x: unknown) => x);
      } finally {
        await faults.repairAudit(h);
      }
      expect(raw).toMatchObject({ code: "AUDIT_WRITE_FAILED", status: 503 });
      for (const pt of plaintexts) expect(JSON.stringify(raw)).not.toContain(pt);
      expect((await h.svc.store.listAudit()).length).toBe(count);
      expect((await h.svc.store.verifyAudit()).ok).toBe(true);
      expect((await c.call<Results>("POST", "/v1/decrypt/batch", { items })).results).toEqual(plaintexts.map((plaintext) => ({ plaintext })));
    });

    it("HMAC, Ed25519 and ECDSA P-256 signatures under derived keys", async () => {
      const c = h.keyring("trainer").client;
      const data = Buffer.from("message").toString("base64");
      const m = await c.call<{ mac: string; keyVersion: number }>("POST", "/v1/hmac", { keyName: "prod/datasets/raw", data });
      expect(await c.call("POST", "/v1/hmac/verify", { keyName: "prod/datasets/raw", keyVersion: m.keyVersion, data, mac: m.mac })).toEqual({ valid: true });
      expect(await c.call("POST", "/v1/hmac/verify", { keyName: "prod/datasets/raw", keyVersion: m.keyVersion, data: "AAAA", mac: m.mac })).toEqual({
        valid: false,
      });
      for (const algorithm of ["ed25519", "ecdsa-p256"]) {
        const s = await c.call<{ signature: string; keyVersion: number }>("POST", "/v1/sign", { keyName: "prod/datasets/raw", algorithm, message: data });
        expect(
          await c.call("POST", "/v1/verify", { keyName: "prod/datasets/raw", keyVersion: s.keyVersion, algorithm, message: data, signature: s.signature }),
        ).toEqual({ valid: true });
        expect(
          await c.call("POST", "/v1/verify", { keyName: "prod/datasets/raw", keyVersion: s.keyVersion, algorithm, message: "AAAA", signature: s.signature }),
        ).toEqual({ valid: false });
        const { publicKey } = await c.call<{ publicKey: string }>("POST", "/v1/sign/public-key", {
          keyName: "prod/datasets/raw",
          keyVersion: s.keyVersion,
          algorithm,
        });
        const { verify } = await import("node:crypto");
        expect(verify(algorithm === "ed25519" ? null : "sha256", Buffer.from("message"), publicKey, Buffer.from(s.signature, "base64"))).toBe(true);
      }
      // each is one record, the derivation's own, with the rule that allowed it
      const head = await headSeq();
      await c.call("POST", "/v1/hmac", { keyName: "prod/datasets/raw", data });
      expect((await since(head)).map((r) => [r.operation, r.outcome, ruleOf(r)])).toEqual([["hmac", "ok", "train"]]);
      // input is parsed after the decision and before any key is derived: a malformed message is
      // a sign that failed before it started (the decision with its error), never an ok record
      const head2 = await headSeq(); // "AB==" is in the alphabet (the schema passes it), but not canonical base64
      await expect(c.call("POST", "/v1/sign", { keyName: "prod/datasets/raw", algorithm: "ed25519", message: "AB==" })).rejects.toMatchObject({ status: 400 });
      expect((await since(head2)).map((r) => [r.operation, r.outcome, r.errorCode, ruleOf(r)])).toEqual([["authz.sign", "error", "INVALID_ARGUMENT", "train"]]);
    });

    it("separation of duties: admins never unwrap, workloads never administer, no cross-environment use", async () => {
      const admin = h.keyring("admin");
      const trainer = h.keyring("trainer");
      const dev = h.keyring("devTrainer");
      const e = await trainer.wrap("prod/datasets/raw", randomBytes(32), ctx);
      await expect(admin.unwrap(e, ctx, { operation: "decrypt" })).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED", status: 403 });
      await expect(trainer.rotateKey("prod/datasets/raw")).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
      await expect(dev.wrap("prod/datasets/raw", randomBytes(32), ctx)).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
      await expect(h.keyring("stranger").listKeys()).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
    });

    it("audits every decision, allowed and denied, with the deciding rule: allowed ones in the operation's own record", async () => {
      const auditor = h.keyring("auditor");
      const records = await auditor.listAudit({ limit: 500 });
      const authz = records.filter((r) => r.operation.startsWith("authz."));
      // a decision is recorded on its own only when no operation followed: denials, and allowed operations that failed before they started
      expect(authz.every((r) => r.outcome === "denied" || (r.outcome === "error" && r.errorCode !== null))).toBe(true);
      expect(authz.some((r) => r.principal === WHO.admin && r.outcome === "denied" && ruleOf(r) === "builtin:admin-no-plaintext")).toBe(true);
      expect(records.some((r) => r.operation === "decrypt" && r.principal === WHO.trainer && r.outcome === "ok" && ruleOf(r) === "train")).toBe(true);
      // the wrap, the listing and the rotation each are one record, with their rules
      expect(records.some((r) => r.operation === "datakey.generate" && r.principal === WHO.trainer && ruleOf(r) === "train")).toBe(true);
      expect(records.some((r) => r.operation === "key.rotate" && r.principal === WHO.admin && typeof ruleOf(r) === "string")).toBe(true);
      expect((await auditor.verifyAudit()).ok).toBe(true);
    });

    it("policy changes need a proposal and a second, different policy admin", async () => {
      const pa1 = h.keyring("pa1");
      const pa2 = h.keyring("pa2");
      const next = (await import("./api-harness.js")).POLICY.replace("operations: [audit.read, key.list]", "operations: [audit.read, audit.export, key.list]");
      const { id } = await pa1.proposePolicy(next);
      await expect(pa1.approvePolicy(id)).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
      await expect(h.keyring("admin").approvePolicy(id)).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
      expect(await pa2.approvePolicy(id)).toMatchObject({ id, state: "active", proposer: WHO.pa1, approver: WHO.pa2 });
      await expect(pa1.proposePolicy("version: 1\nrules: [")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });
  });
}
