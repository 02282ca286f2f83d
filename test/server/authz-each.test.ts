/**
 * Authorizer.authorizeEach, the batch form of authorizeWith, on a real SQLite store: one
 * transaction for the whole batch, ONE record per item (an allowed item's unwrap record carries
 * the rule that allowed it; a denied item is its denial), results in item order, refusals per
 * item, and nothing released (every key wiped) when a record cannot be written.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, expect, it } from "vitest";
import { initKeystore } from "../../src/keys/keystore.js";
import type { WrappedKey } from "../../src/keys/keyring.js";
import { type AuthorizedOp, Authorizer, accessRequest } from "../../src/server/authz.js";
import { parsePolicy } from "../../src/server/policy/index.js";
import { type SqliteStore, openSqliteStore } from "../../src/server/store/sqlite.js";

const TRAINER = "spiffe://acme.internal/prod/trainer";
const POLICY = `version: 1
groups:
  workloads: ["${TRAINER}"]
bindings:
  - { group: workloads, role: workload }
rules:
  - { id: train, group: workloads, operations: [unwrap], keys: ["prod/**"] }
`;
const CTX = { dataset: "raw" };

const root = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-authz-each-"));
afterAll(() => fs.rm(root, { recursive: true, force: true }));
let n = 0;
let store: SqliteStore;
let authz: Authorizer;
beforeEach(async () => {
  const home = path.join(root, `ks${++n}`);
  await initKeystore(home, { principal: "test-init" });
  store = await openSqliteStore({ home });
  await store.createKey("setup", "prod/k");
  authz = new Authorizer(store, parsePolicy(POLICY));
});
afterEach(() => store.close());

/** `operation:outcome:path:rule` of each record after `head`. */
const recordsAfter = async (head: number) =>
  (await store.listAudit())
    .filter((r) => r.seq > head)
    .map((r) => `${r.operation}:${r.outcome}:${r.objectPath}:${(JSON.parse(r.context ?? "{}") as Record<string, string>)["@rule"]}`);
const caller = { principal: TRAINER, auth: "mtls" as const };
function unwrapOf(entry: WrappedKey, path: string): AuthorizedOp<Buffer> {
  return {
    req: accessRequest(caller, "unwrap", { keyName: entry.keyName, keyVersion: entry.keyVersion, context: CTX, objectPath: path }),
    op: (who) => store.unwrap(who, entry, CTX, { operation: "decrypt", path }),
  };
}

it("decides every item, commits ONE record per item in ONE transaction, and settles each item in order", async () => {
  const dks = [randomBytes(32), randomBytes(32)];
  const [a, b] = await Promise.all(dks.map((dk) => store.wrap(TRAINER, "prod/k", dk, CTX)));
  const forged = { ...a!, wrapped: Buffer.from(a!.wrapped) };
  forged.wrapped[forged.wrapped.length - 1]! ^= 1; // the GCM tag no longer matches
  const outside = { ...a!, keyName: "other/k" }; // no rule covers it: denied, never unwrapped
  const head = (await store.listAudit({ limit: 1 }))[0]!.seq;
  const before = store.commitStats();
  const wiped: Buffer[] = [];
  const results = await authz.authorizeEach([unwrapOf(a!, "a"), unwrapOf(outside, "x"), unwrapOf(forged, "f"), unwrapOf(b!, "b")], (k) => wiped.push(k));
  expect(store.commitStats().batches - before.batches).toBe(1);
  expect(wiped).toHaveLength(0);
  expect(results.map((r) => (r.status === "fulfilled" ? r.value.toString("hex") : (r.reason as { code: string }).code))).toEqual([
    dks[0]!.toString("hex"),
    "ACCESS_DENIED",
    "DECRYPT_FAILED",
    dks[1]!.toString("hex"),
  ]);
  expect(await recordsAfter(head)).toEqual([
    "decrypt:ok:a:train", // the unwrap's own record is the decision's: no authz.unwrap beside it
    "authz.unwrap:denied:x:builtin:default-deny",
    "decrypt:error:f:train", // allowed, then refused by the store: the operation's record, with the rule
    "decrypt:ok:b:train",
  ]);
  expect((await store.verifyAudit()).ok).toBe(true);
});

it("an allowed op the store does not audit gets its own record, with the rule, before its value is returned; one that fails first is the decision with its error", async () => {
  const head = (await store.listAudit({ limit: 1 }))[0]!.seq;
  const req = (path: string) => accessRequest(caller, "unwrap", { keyName: "prod/k", context: CTX, objectPath: path });
  const results = await authz.authorizeEach<string>(
    [
      { req: req("listed"), op: async () => "done" },
      { req: req("broken"), op: async () => Promise.reject(new Error("boom")) },
    ],
    () => undefined,
  );
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
  expect(await recordsAfter(head)).toEqual(["unwrap:ok:listed:train", "authz.unwrap:error:broken:train"]);
  const failed = (await store.listAudit()).at(-1)!;
  expect(failed.errorCode).toBe("UNAVAILABLE"); // an untyped failure is recorded as the service's, never its message
});

it("fails closed when a denial in the batch cannot be recorded: AUDIT_WRITE_FAILED, and every key the batch produced is wiped", async () => {
  const entries = await Promise.all([0, 1, 2].map(() => store.wrap(TRAINER, "prod/k", randomBytes(32), CTX)));
  store.appendAudit = async () => {
    throw new Error("disk full");
  };
  const wiped: Buffer[] = [];
  const outside = { ...entries[0]!, keyName: "other/k" }; // denied: its record is the one that fails
  await expect(authz.authorizeEach([...entries.map((e, i) => unwrapOf(e, `p${i}`)), unwrapOf(outside, "x")], (k) => wiped.push(k))).rejects.toMatchObject({
    code: "AUDIT_WRITE_FAILED",
  });
  // the unwraps themselves committed (their records carry their rule): each key went to discard
  expect(wiped.map((k) => k.length)).toEqual([32, 32, 32]);
});

it("fails closed when an allowed op's own record cannot be written: nothing it produced is returned", async () => {
  store.appendEvent = async () => {
    throw new Error("disk full");
  };
  const secret = Buffer.from("a value the op produced");
  const wiped: Buffer[] = [];
  const req = accessRequest(caller, "unwrap", { keyName: "prod/k", context: CTX, objectPath: "p" });
  await expect(authz.authorizeEach([{ req, op: async () => secret }], (v) => wiped.push(v))).rejects.toMatchObject({ code: "AUDIT_WRITE_FAILED" });
  expect(wiped).toEqual([secret]);
});

it("an item whose op throws at once, while the decision records are still committing, settles alone: no unhandled rejection", async () => {
  const [a] = await Promise.all([store.wrap(TRAINER, "prod/k", randomBytes(32), CTX)]);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const append = store.appendAudit.bind(store);
  // the decision records take a few macrotasks to commit, as under load: the failed op must be handled meanwhile
  store.appendAudit = async (event) => {
    await new Promise((r) => setTimeout(r, 20));
    return append(event);
  };
  try {
    const bad: AuthorizedOp<Buffer> = {
      req: accessRequest(caller, "unwrap", { keyName: a!.keyName, keyVersion: a!.keyVersion, context: CTX, objectPath: "bad" }),
      op: () => {
        throw new Error("not canonical base64"); // as fromWireEntry does for a malformed wire entry
      },
    };
    const results = await authz.authorizeEach([bad, unwrapOf(a!, "good")], () => undefined);
    await new Promise((r) => setTimeout(r, 50)); // let Node report any rejection that had no handler
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
