/**
 * The one test suite every KeyStore implementation passes (src/server/store/types.ts).
 * A harness opens a fresh store per test and can break/repair the audit table and tamper
 * with a stored record, the way an attacker or a full disk would.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Attributed } from "../../src/server/store/actor.js";
import type { KeyStore } from "../../src/server/store/types.js";

export interface StoreHarness {
  /** A fresh, empty, initialised store. */
  open(): Promise<KeyStore>;
  /** Make every insert into the audit table fail (a trigger that raises). */
  breakAudit(): Promise<void>;
  repairAudit(): Promise<void>;
  /** Edit the principal of the record `seq` behind the store's back. */
  tamperAudit(seq: number): Promise<void>;
  /** Run SQL on the store's database behind its back (a separate connection), as an attacker with write access would. */
  sql(statement: string): Promise<void>;
}

const ADMIN = "spiffe://test/admin/alice";
const ADMIN2 = "spiffe://test/admin/bob";
const WORKER = "spiffe://test/workload/trainer";
const CTX = { dataset: "users", stage: "train" };
const OBJ = { operation: "decrypt", path: "users.sealed" };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return "no error";
}

export function storeSuite(name: string, harness: StoreHarness): void {
  describe(`KeyStore contract: ${name}`, () => {
    let store: KeyStore;
    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await harness.repairAudit();
      await store.close();
    });

    it("creates, rotates, lists, shows; versions and primary", async () => {
      const created = await store.createKey(ADMIN, "datasets/pii", { rotateEverySeconds: 3600 });
      expect(created).toMatchObject({ name: "datasets/pii", primaryVersion: 1, minDecryptVersion: 1, rotateEverySeconds: 3600, rotationDue: false });
      expect(await codeOf(store.createKey(ADMIN, "datasets/pii"))).toBe("KEY_EXISTS");
      expect(await codeOf(store.createKey(ADMIN, "Bad Name"))).toBe("INVALID_ARGUMENT");
      const rotated = await store.rotateKey(ADMIN, "datasets/pii");
      expect(rotated.primaryVersion).toBe(2);
      expect(rotated.versions.map((v) => [v.version, v.state])).toEqual([
        [1, "enabled"],
        [2, "enabled"],
      ]);
      await store.createKey(ADMIN, "a/first");
      expect((await store.listKeys()).map((k) => k.name)).toEqual(["a/first", "datasets/pii"]);
      expect((await store.showKey("datasets/pii")).primaryVersion).toBe(2);
      expect(await codeOf(store.showKey("nope"))).toBe("KEY_NOT_FOUND");
      expect(await codeOf(store.rotateKey(ADMIN, "nope"))).toBe("KEY_NOT_FOUND");
    });

    it("disable / enable / destroy / min version follow the state rules", async () => {
      await store.createKey(ADMIN, "k");
      await store.rotateKey(ADMIN, "k");
      await store.rotateKey(ADMIN, "k");
      expect(await codeOf(store.disableVersion(ADMIN, "k", 3))).toBe("KEY_STATE_CONFLICT"); // primary
      expect(await codeOf(store.destroyVersion(ADMIN, "k", 3))).toBe("KEY_STATE_CONFLICT");
      expect(await codeOf(store.disableVersion(ADMIN, "k", 9))).toBe("KEY_VERSION_NOT_FOUND");
      expect((await store.disableVersion(ADMIN, "k", 1)).versions[0]?.state).toBe("disabled");
      expect((await store.enableVersion(ADMIN, "k", 1)).versions[0]?.state).toBe("enabled");
      const destroyed = await store.destroyVersion(ADMIN, "k", 2);
      expect(destroyed.versions[1]).toMatchObject({ state: "destroyed" });
      expect(destroyed.versions[1]?.destroyedAt).not.toBeNull();
      expect(await codeOf(store.enableVersion(ADMIN, "k", 2))).toBe("KEY_STATE_CONFLICT");
      expect(await codeOf(store.disableVersion(ADMIN, "k", 2))).toBe("KEY_STATE_CONFLICT");
      expect(await codeOf(store.setMinDecryptVersion(ADMIN, "k", 4))).toBe("INVALID_ARGUMENT");
      expect((await store.setMinDecryptVersion(ADMIN, "k", 2)).minDecryptVersion).toBe(2);
    });

    it("field keys: one per (version, purpose), the same rules and records on every store; bad requests refused before anything is read", async () => {
      await store.createKey(ADMIN, "f");
      const reveal = { path: "users.jsonl", operation: "field-reveal" };
      const primary = await store.deriveKey(WORKER, "f", "primary", "email", reveal);
      const v1 = await store.deriveKey(WORKER, "f", 1, "email", reveal);
      expect(primary.version).toBe(1);
      expect(primary.key.equals(v1.key)).toBe(true);
      expect((await store.deriveKey(WORKER, "f", 1, "phone", reveal)).key.equals(v1.key)).toBe(false);
      expect((await store.deriveKey(WORKER, "f", 1, "email", reveal, 64)).key).toHaveLength(64);
      await store.rotateKey(ADMIN, "f");
      const next = await store.deriveKey(WORKER, "f", "primary", "email", reveal);
      expect(next.version).toBe(2);
      expect(next.key.equals(v1.key)).toBe(false);
      const before = (await store.listAudit()).length;
      expect(await codeOf(store.deriveKey(WORKER, "f", 0, "email", reveal))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.deriveKey(WORKER, "f", 1, "Bad Purpose", reveal))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.deriveKey(WORKER, "f", 1, "email", reveal, 16))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.deriveKey(WORKER, "f", 1, "email", { operation: "key.create" }))).toBe("INVALID_ARGUMENT");
      expect((await store.listAudit()).length).toBe(before);
      await store.disableVersion(ADMIN, "f", 1);
      expect(await codeOf(store.deriveKey(WORKER, "f", 1, "email", reveal))).toBe("KEY_DISABLED");
      const recs = (await store.listAudit()).filter((r) => r.keyName === "f" && r.operation === "field-reveal");
      expect(recs.map((r) => [r.keyVersion, r.outcome, r.errorCode, r.context])).toEqual([
        [1, "ok", null, '{"purpose":"email"}'],
        [1, "ok", null, '{"purpose":"email"}'],
        [1, "ok", null, '{"purpose":"phone"}'],
        [1, "ok", null, '{"purpose":"email"}'],
        [2, "ok", null, '{"purpose":"email"}'],
        [1, "denied", "KEY_DISABLED", '{"purpose":"email"}'],
      ]);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("a failed use after a release is recorded as the caller's error record; bad operations and codes are refused", async () => {
      await store.createKey(ADMIN, "k");
      const v1 = await store.wrap(WORKER, "k", randomBytes(32), CTX);
      (await store.unwrap(WORKER, v1, CTX, OBJ)).fill(0);
      await store.recordFailedUse(WORKER, v1, CTX, OBJ, "DECRYPT_FAILED");
      await store.recordFailedUse(WORKER, v1, CTX, { operation: "rewrap" }, "IO_ERROR");
      expect(await codeOf(store.recordFailedUse(WORKER, v1, CTX, { operation: "init" }, "IO_ERROR"))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.recordFailedUse(WORKER, v1, CTX, OBJ, "not a code"))).toBe("INVALID_ARGUMENT");
      const recs = (await store.listAudit()).filter((r) => r.keyName === "k" && r.operation !== "key.create");
      expect(recs.map((r) => [r.operation, r.outcome, r.errorCode, r.principal, r.objectPath])).toEqual([
        ["decrypt", "ok", null, WORKER, "users.sealed"],
        ["decrypt", "error", "DECRYPT_FAILED", WORKER, "users.sealed"],
        ["rewrap", "error", "IO_ERROR", WORKER, null],
      ]);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("wrap / unwrap / rewrap with context binding and state rules", async () => {
      await store.createKey(ADMIN, "k");
      const dk = randomBytes(32);
      const v1 = await store.wrap(WORKER, "k", dk, CTX);
      expect(v1).toMatchObject({ keyring: store.keyringId, keyName: "k", keyVersion: 1 });
      expect((await store.unwrap(WORKER, v1, CTX, OBJ)).equals(dk)).toBe(true);
      expect(await codeOf(store.unwrap(WORKER, v1, { ...CTX, stage: "serve" }, OBJ))).toBe("DECRYPT_FAILED");
      expect(await codeOf(store.unwrap(WORKER, { ...v1, keyVersion: 2 }, CTX, OBJ))).toBe("KEY_VERSION_NOT_FOUND");
      expect(await codeOf(store.unwrap(WORKER, { ...v1, keyring: "other" }, CTX, OBJ))).toBe("KEYRING_MISMATCH");
      expect(await codeOf(store.unwrap(WORKER, v1, CTX, { operation: "rewrap" }))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.wrap(WORKER, "nope", dk, CTX))).toBe("KEY_NOT_FOUND");
      expect(await codeOf(store.wrap(WORKER, "k", dk.subarray(0, 16), CTX))).toBe("INVALID_ARGUMENT");

      await store.rotateKey(ADMIN, "k");
      const v2 = await store.rewrap(WORKER, v1, CTX, { operation: "rewrap", path: "users.sealed" });
      expect(v2.keyVersion).toBe(2);
      expect((await store.unwrap(WORKER, v2, CTX, OBJ)).equals(dk)).toBe(true);

      await store.disableVersion(ADMIN, "k", 1);
      expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEY_DISABLED");
      await store.enableVersion(ADMIN, "k", 1);
      await store.setMinDecryptVersion(ADMIN, "k", 2);
      expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEY_BELOW_MIN_VERSION");
      await store.destroyVersion(ADMIN, "k", 1);
      expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEY_DESTROYED");
      expect(await codeOf(store.rewrap(WORKER, v1, CTX, OBJ))).toBe("KEY_DESTROYED");
    });

    it("audits per principal, decisions with their rule; verifies and detects a modified row", async () => {
      await store.createKey(ADMIN, "k");
      const entry = await store.wrap(WORKER, "k", randomBytes(32), CTX);
      const allowed = await store.appendAudit({
        principal: WORKER,
        operation: "unwrap",
        allowed: true,
        rule: "trainers-read-datasets",
        keyName: "k",
        keyVersion: 1,
        context: CTX,
      });
      (await store.unwrap(WORKER, entry, CTX, OBJ)).fill(0);
      const denied = await store.appendAudit({
        principal: ADMIN,
        operation: "unwrap",
        allowed: false,
        rule: "sod:admin-cannot-decrypt",
        keyName: "k",
        errorCode: "ACCESS_DENIED",
      });
      expect(allowed).toMatchObject({ operation: "authz.unwrap", principal: WORKER, outcome: "ok" });
      expect(JSON.parse(allowed.context ?? "{}")).toEqual({ ...CTX, "@rule": "trainers-read-datasets" });
      expect(denied).toMatchObject({ operation: "authz.unwrap", outcome: "denied", errorCode: "ACCESS_DENIED", seq: allowed.seq + 2 });
      expect(await codeOf(store.appendAudit({ principal: WORKER, operation: "unwrap", allowed: true, rule: "" }))).toBe("INVALID_ARGUMENT");

      const records = await store.listAudit();
      const unwrap = records.find((r) => r.operation === "decrypt");
      expect(unwrap).toMatchObject({ principal: WORKER, keyName: "k", keyVersion: 1, outcome: "ok", objectPath: "users.sealed" });
      expect(records.find((r) => r.operation === "key.create")?.principal).toBe(ADMIN);
      expect((await store.listAudit({ limit: 2 })).map((r) => r.seq)).toEqual([denied.seq - 1, denied.seq]);

      const lines: string[] = [];
      for await (const line of store.exportAudit()) lines.push(line);
      expect(lines).toHaveLength(records.length);
      expect(lines.every((l) => l.endsWith("\n"))).toBe(true);
      expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ seq: denied.seq, operation: "authz.unwrap" });

      expect(await store.verifyAudit()).toMatchObject({ ok: true, records: records.length, problems: [] });
      await harness.tamperAudit(unwrap?.seq as number);
      const verdict = await store.verifyAudit();
      expect(verdict.ok).toBe(false);
      expect(verdict.problems).toContainEqual(expect.objectContaining({ seq: unwrap?.seq, kind: "modified" }));
    });

    it("policy proposals: a second, different administrator approves; the newest approval is active", async () => {
      expect(await store.activePolicy()).toBeNull();
      const id = await store.proposePolicy("version: 1\nrules: []\n", ADMIN);
      expect(id).toMatch(/^pol_[0-9a-f]{20}$/);
      expect(await codeOf(store.approvePolicy(id, ADMIN))).toBe("INVALID_ARGUMENT"); // self-approval
      expect(await store.activePolicy()).toBeNull();
      expect(await codeOf(store.approvePolicy("pol_00000000000000000000", ADMIN2))).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.proposePolicy("  ", ADMIN))).toBe("INVALID_ARGUMENT");
      const active = await store.approvePolicy(id, ADMIN2);
      expect(active).toMatchObject({ id, state: "active", proposer: ADMIN, approver: ADMIN2 });
      expect(await codeOf(store.approvePolicy(id, ADMIN2))).toBe("INVALID_ARGUMENT"); // already settled
      const id2 = await store.proposePolicy("version: 1\nrules: [x]\n", ADMIN2);
      await store.approvePolicy(id2, ADMIN);
      expect((await store.activePolicy())?.id).toBe(id2);
      expect((await store.listPolicies()).find((p) => p.id === id)?.state).toBe("superseded");
      const ops = (await store.listAudit()).filter((r) => r.operation.startsWith("policy."));
      expect(ops.map((r) => `${r.operation}:${r.outcome}:${r.principal}`)).toEqual([
        `policy.propose:ok:${ADMIN}`,
        `policy.approve:denied:${ADMIN}`,
        `policy.approve:denied:${ADMIN2}`,
        `policy.approve:ok:${ADMIN2}`,
        `policy.approve:denied:${ADMIN2}`,
        `policy.propose:ok:${ADMIN2}`,
        `policy.approve:ok:${ADMIN}`,
      ]);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("fails closed: with the audit table unwritable no unwrap, change or decision succeeds", async () => {
      await store.createKey(ADMIN, "k");
      const entry = await store.wrap(WORKER, "k", randomBytes(32), CTX);
      const before = (await store.listAudit()).length;
      await harness.breakAudit();
      expect(await codeOf(store.unwrap(WORKER, entry, CTX, OBJ))).toBe("AUDIT_WRITE_FAILED");
      expect(await codeOf(store.rewrap(WORKER, entry, CTX, OBJ))).toBe("AUDIT_WRITE_FAILED");
      expect(await codeOf(store.rotateKey(ADMIN, "k"))).toBe("AUDIT_WRITE_FAILED");
      expect(await codeOf(store.appendAudit({ principal: WORKER, operation: "unwrap", allowed: true, rule: "r" }))).toBe("AUDIT_WRITE_FAILED");
      expect(await codeOf(store.proposePolicy("version: 1\n", ADMIN))).toBe("AUDIT_WRITE_FAILED");
      expect((await store.showKey("k")).primaryVersion).toBe(1); // the rotation rolled back with its record
      await harness.repairAudit();
      expect((await store.listAudit()).length).toBe(before);
      expect((await store.listPolicies()).length).toBe(0);
      expect((await store.unwrap(WORKER, entry, CTX, OBJ)).length).toBe(32);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("group commit: 240 concurrent unwraps are each audited exactly once, contiguously, in bounded batches; the chain verifies", async () => {
      await store.createKey(ADMIN, "k");
      const dk = randomBytes(32);
      const entry = await store.wrap(WORKER, "k", dk, CTX);
      const head = (await store.listAudit({ limit: 1 }))[0]?.seq as number;
      const before = store.commitStats();
      const n = 240;
      const keys = await Promise.all(
        Array.from({ length: n }, (_, i) => store.unwrap(`${WORKER}/${i}`, entry, CTX, { operation: "decrypt", path: `shard-${i}` })),
      );
      expect(keys.every((k) => k.equals(dk))).toBe(true);
      const stats = store.commitStats();
      expect(stats.jobs - before.jobs).toBe(n);
      expect(stats.batches - before.batches).toBeLessThanOrEqual(n / 4); // they shared transactions
      expect(stats.largest).toBeLessThanOrEqual(128); // and the batches are bounded
      const added = (await store.listAudit()).filter((r) => r.seq > head);
      expect(added.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => head + 1 + i));
      expect(added.every((r) => r.operation === "decrypt" && r.outcome === "ok" && r.keyName === "k")).toBe(true);
      expect(added.map((r) => r.objectPath).sort()).toEqual(Array.from({ length: n }, (_, i) => `shard-${i}`).sort());
      expect(new Set(added.map((r) => r.principal)).size).toBe(n);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, problems: [] });
    });

    it("a failed batch: every request in it rejects with AUDIT_WRITE_FAILED, none gets a key, nothing is recorded", async () => {
      await store.createKey(ADMIN, "k");
      const entry = await store.wrap(WORKER, "k", randomBytes(32), CTX);
      const count = (await store.listAudit()).length;
      await harness.breakAudit();
      const calls: Promise<unknown>[] = [
        ...Array.from({ length: 60 }, (_, i) => store.unwrap(WORKER, entry, CTX, { operation: "decrypt", path: `p${i}` })),
        store.unwrap(WORKER, entry, { ...CTX, stage: "serve" }, OBJ), // a refusal in the same batch
        store.appendAudit({ principal: WORKER, operation: "unwrap", allowed: true, rule: "r" }),
        store.rewrap(WORKER, entry, CTX, { operation: "rewrap" }),
      ];
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((r) => r.status === "fulfilled")).toHaveLength(0);
      expect(new Set(settled.map((r) => (r as PromiseRejectedResult).reason?.code))).toEqual(new Set(["AUDIT_WRITE_FAILED"]));
      await harness.repairAudit();
      expect((await store.listAudit()).length).toBe(count);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    it("an Attributed caller: each allowed operation is ONE record, its own, carrying the decision (rule, delegate, delegation)", async () => {
      const as = (rule: string, extra: { delegate?: string; delegation?: string } = {}) => new Attributed(WORKER, { rule, ...extra });
      const ruleOf = (r: { context: string | null }) => JSON.parse(r.context ?? "{}") as Record<string, string>;
      const admin = new Attributed(ADMIN, { rule: "ops" });
      await store.createKey(admin, "k");
      expect(admin.recorded).toBe(true);
      const head = (await store.listAudit({ limit: 1 }))[0]!.seq;
      const dk = randomBytes(32);
      const wrapper = as("train");
      const entry = await store.wrap(wrapper, "k", dk, CTX);
      expect(wrapper.recorded).toBe(false); // the store does not audit a wrap: the server records it (authz.ts)
      const reader = as("train", { delegate: "spiffe://test/gateway", delegation: "gw" });
      expect((await store.unwrap(reader, entry, CTX, OBJ)).equals(dk)).toBe(true);
      expect(reader.recorded).toBe(true);
      await store.rotateKey(admin, "k");
      await store.rewrap(as("train"), entry, CTX, { operation: "rewrap", path: "users.sealed" });
      await store.recordFailedUse(as("train"), entry, CTX, OBJ, "DECRYPT_FAILED");
      const forged = { ...entry, wrapped: Buffer.from(entry.wrapped) };
      forged.wrapped[forged.wrapped.length - 1]! ^= 1;
      const refused = as("train");
      expect(await codeOf(store.unwrap(refused, forged, CTX, OBJ))).toBe("DECRYPT_FAILED");
      expect(refused.recorded).toBe(true); // the refusal is the operation's record, with the rule
      const added = (await store.listAudit()).filter((r) => r.seq > head);
      expect(added.map((r) => [r.operation, r.principal, r.outcome, r.errorCode, ruleOf(r)["@rule"]])).toEqual([
        ["decrypt", WORKER, "ok", null, "train"],
        ["key.rotate", ADMIN, "ok", null, "ops"],
        ["rewrap", WORKER, "ok", null, "train"],
        ["decrypt", WORKER, "error", "DECRYPT_FAILED", "train"],
        ["decrypt", WORKER, "error", "DECRYPT_FAILED", "train"],
      ]);
      // the request's context is kept beside the decision; the delegate that asked is named
      expect(ruleOf(added[0]!)).toEqual({ ...CTX, "@rule": "train", "@delegate": "spiffe://test/gateway", "@delegation": "gw" });
      expect(await store.verifyAudit()).toMatchObject({ ok: true, problems: [] });
    });

    it("together(): a denial and an authorized unwrap (one record each) are recorded both or neither", async () => {
      await store.createKey(ADMIN, "k");
      const dk = randomBytes(32);
      const entry = await store.wrap(WORKER, "k", dk, CTX);
      const pair = (who: string) =>
        store.together(
          () =>
            [
              store.appendAudit({
                principal: `${who}/denied`,
                operation: "unwrap",
                allowed: false,
                rule: "builtin:default-deny",
                keyName: "k",
                errorCode: "ACCESS_DENIED",
              }),
              store.unwrap(new Attributed(who, { rule: "r1" }), entry, CTX, OBJ),
            ] as const,
        );
      const pairs = Array.from({ length: 100 }, (_, i) => pair(`${WORKER}/${i}`));
      const done = await Promise.all(pairs.map(async ([decided, key]) => ({ decided: await decided, key: await key })));
      expect(done.every((d) => d.key.equals(dk))).toBe(true);
      const records = await store.listAudit();
      for (const { decided } of done) {
        const next = records.find((r) => r.seq === decided.seq + 1);
        expect(decided).toMatchObject({ operation: "authz.unwrap", outcome: "denied" });
        expect(next).toMatchObject({ operation: "decrypt", principal: decided.principal.replace(/\/denied$/, ""), outcome: "ok" });
        expect(JSON.parse(next!.context!)["@rule"]).toBe("r1");
      }
      const count = records.length;
      await harness.breakAudit();
      const [decided, key] = pair(WORKER);
      const outcome = await Promise.allSettled([decided, key]);
      expect(outcome.map((r) => (r as PromiseRejectedResult).reason?.code)).toEqual(["AUDIT_WRITE_FAILED", "AUDIT_WRITE_FAILED"]);
      await harness.repairAudit();
      expect((await store.listAudit()).length).toBe(count);
      expect((await store.verifyAudit()).ok).toBe(true);
    });

    describe("key state edited behind the store's back is KEYSTORE_CORRUPT, never a silent success", () => {
      // each attack follows a change made through the store, so no cached read hides it
      it("a disabled version re-enabled in SQL: unwrap, rewrap, show and list refuse", async () => {
        await store.createKey(ADMIN, "k");
        const dk = randomBytes(32);
        const v1 = await store.wrap(WORKER, "k", dk, CTX);
        await store.rotateKey(ADMIN, "k");
        await store.disableVersion(ADMIN, "k", 1);
        await harness.sql("UPDATE key_versions SET state = 'enabled' WHERE key_name = 'k' AND version = 1");
        expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEYSTORE_CORRUPT");
        expect(await codeOf(store.rewrap(WORKER, v1, CTX, { operation: "rewrap" }))).toBe("KEYSTORE_CORRUPT");
        expect(await codeOf(store.showKey("k"))).toBe("KEYSTORE_CORRUPT");
        expect(await codeOf(store.listKeys())).toBe("KEYSTORE_CORRUPT");
        // an admin change does not launder the tampered row into a valid one
        expect(await codeOf(store.rotateKey(ADMIN, "k"))).toBe("KEYSTORE_CORRUPT");
        expect(await codeOf(store.enableVersion(ADMIN, "k", 1))).toBe("KEYSTORE_CORRUPT");
        const refused = (await store.listAudit()).filter((r) => r.operation === "decrypt" && r.errorCode === "KEYSTORE_CORRUPT");
        expect(refused).toHaveLength(1);
      });

      it("a minimum decryption version lowered in SQL, or the primary moved back: refused", async () => {
        await store.createKey(ADMIN, "k");
        const v1 = await store.wrap(WORKER, "k", randomBytes(32), CTX);
        await store.rotateKey(ADMIN, "k");
        await store.setMinDecryptVersion(ADMIN, "k", 2);
        await harness.sql("UPDATE keys SET min_decrypt_version = 1 WHERE name = 'k'");
        expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEYSTORE_CORRUPT");
        await harness.sql("UPDATE keys SET min_decrypt_version = 2, primary_version = 1 WHERE name = 'k'");
        expect(await codeOf(store.wrap(WORKER, "k", randomBytes(32), CTX))).toBe("KEYSTORE_CORRUPT");
        await harness.sql("UPDATE keys SET primary_version = 2 WHERE name = 'k'");
        expect((await store.showKey("k")).minDecryptVersion).toBe(2); // restored exactly: authentic again
      });

      it("a wrap count reset in SQL: the next wrap and show refuse", async () => {
        await store.createKey(ADMIN, "k");
        for (let i = 0; i < 3; i++) await store.wrap(WORKER, "k", randomBytes(32), CTX);
        expect((await store.showKey("k")).versions[0]?.wrapCount).toBe(3);
        await harness.sql("UPDATE key_versions SET wrap_count = 0 WHERE key_name = 'k'");
        expect(await codeOf(store.wrap(WORKER, "k", randomBytes(32), CTX))).toBe("KEYSTORE_CORRUPT");
        expect(await codeOf(store.showKey("k"))).toBe("KEYSTORE_CORRUPT");
      });

      it("a state MAC swapped in from another version or key, or a saved row written back after a disable: refused", async () => {
        await store.createKey(ADMIN, "k");
        await store.createKey(ADMIN, "other");
        const v1 = await store.wrap(WORKER, "k", randomBytes(32), CTX);
        await store.rotateKey(ADMIN, "k");
        await store.disableVersion(ADMIN, "k", 1);
        // v2 is enabled with the same generation: its (authentic) MAC does not name v1
        await harness.sql(`UPDATE key_versions SET state = 'enabled', wrap_count = (SELECT wrap_count FROM key_versions WHERE key_name = 'k' AND version = 2),
                           state_mac = (SELECT state_mac FROM key_versions WHERE key_name = 'k' AND version = 2) WHERE key_name = 'k' AND version = 1`);
        expect(await codeOf(store.unwrap(WORKER, v1, CTX, OBJ))).toBe("KEYSTORE_CORRUPT");
        await harness.sql("UPDATE keys SET state_mac = (SELECT state_mac FROM keys WHERE name = 'other') WHERE name = 'k'");
        expect(await codeOf(store.showKey("k"))).toBe("KEYSTORE_CORRUPT");

        // a row saved while v1 was enabled, written back (authentic MAC, older generation) after a disable
        await store.createKey(ADMIN, "r");
        const r1 = await store.wrap(WORKER, "r", randomBytes(32), CTX);
        await store.rotateKey(ADMIN, "r");
        await harness.sql("CREATE TABLE saved_row AS SELECT * FROM key_versions WHERE key_name = 'r' AND version = 1");
        await store.disableVersion(ADMIN, "r", 1);
        await harness.sql(`UPDATE key_versions SET state = s.state, state_gen = s.state_gen, state_mac = s.state_mac FROM saved_row s
                           WHERE key_versions.key_name = 'r' AND key_versions.version = 1`);
        expect(await codeOf(store.unwrap(WORKER, r1, CTX, OBJ))).toBe("KEYSTORE_CORRUPT");
      });
    });

    it("throws INVALID_ARGUMENT after close", async () => {
      await store.close();
      expect(await codeOf(store.listKeys())).toBe("INVALID_ARGUMENT");
      expect(await codeOf(store.createKey(ADMIN, "k"))).toBe("INVALID_ARGUMENT");
    });
  });
}
