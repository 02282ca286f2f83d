/**
 * Decide, then parse (issue 22, items 12 and 13), over real mTLS:
 * - a caller who may never do a route's operation gets 403 with an audited denial before its
 *   body is read, on every route: no parser error (a policy's line:column, "not a /v1/encrypt
 *   ciphertext", a schema complaint) reaches it;
 * - `key list` shows only the keys the caller may `key show`: a prod workload sees no dev key.
 */
import { randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/types.js";
import { createMtlsDispatcher } from "../../src/pki/mtls/dispatcher.js";
import { AUDIT_EXPORT_ROUTE } from "../../src/server/routes/audit-export.js";
import { ROUTES } from "../../src/server/schemas.js";
import { type Harness, TD, WHO, type Who, startHarness } from "./api-harness.js";

let h: Harness;
const agents: Agent[] = [];
beforeAll(async () => {
  h = await startHarness({ keys: ["prod/datasets/raw", "prod/models/m", "dev/datasets/raw", "dev/scratch", "shared/small", "misc/unlisted"] });
});
afterAll(async () => {
  for (const a of agents) await a.close();
  await h?.close();
});

function as(who: Who): Agent {
  const a = createMtlsDispatcher({ certDir: h.certs[who], expect: [`${TD}/*/*`] });
  agents.push(a);
  return a;
}

/** A raw request (any body, any content type), its status, error code and message. */
async function raw(who: Who, method: "GET" | "POST", path: string, body?: string, type = "application/json") {
  const res = await request(h.svc.url + path, { method, ...(body !== undefined ? { body, headers: { "content-type": type } } : {}), dispatcher: as(who) });
  const text = await res.body.text();
  const error = (JSON.parse(text) as { error?: { code: string; message: string } }).error;
  return { status: res.statusCode, code: error?.code, message: error?.message ?? "", text };
}

/** The audit records a principal left after `seq`. */
async function recordsOf(principal: string, afterSeq: number): Promise<AuditRecord[]> {
  return (await h.svc.store.listAudit()).filter((r) => r.seq > afterSeq && r.principal === principal);
}
const head = async () => (await h.svc.store.listAudit()).reduce((m, r) => Math.max(m, r.seq), 0);

describe("decide before parsing", () => {
  it("a workload posting a malformed policy proposal gets 403 with an audited denial, not the parser's line:column", async () => {
    const seq = await head();
    const r = await raw("trainer", "POST", "/v1/policy/proposals", JSON.stringify({ policy: "version: 1\nrules: [\n  - { id: x" }));
    expect(r).toMatchObject({ status: 403, code: "ACCESS_DENIED" });
    expect(r.message).toMatch(/builtin:workload-no-admin/);
    expect(r.text).not.toMatch(/line|column|\d+:\d+|yaml/i);
    // not even JSON: the same refusal, the body is never read
    expect(await raw("trainer", "POST", "/v1/policy/proposals", "{{{ not json")).toMatchObject({ status: 403, code: "ACCESS_DENIED" });
    const recs = await recordsOf(WHO.trainer, seq);
    expect(recs.map((x) => [x.operation, x.outcome, x.errorCode])).toEqual([
      ["authz.policy.propose", "denied", "ACCESS_DENIED"],
      ["authz.policy.propose", "denied", "ACCESS_DENIED"],
    ]);
    expect(JSON.parse(recs[0]!.context!)).toMatchObject({ "@rule": "builtin:workload-no-admin" });
  });

  it("a key admin posting garbage to /v1/decrypt (and the batch) gets 403 with an audited denial, not 'not a /v1/encrypt ciphertext'", async () => {
    const seq = await head();
    const bodies: [string, string][] = [
      ["/v1/decrypt", JSON.stringify({ ciphertext: "UFNFMQ==" })],
      ["/v1/decrypt", JSON.stringify({ ciphertext: "!!! not base64" })],
      ["/v1/decrypt", "\u0000garbage"],
      ["/v1/decrypt/batch", JSON.stringify({ items: [{ ciphertext: "AAAA" }] })],
    ];
    for (const [path, body] of bodies) {
      const r = await raw("admin", "POST", path, body);
      expect(r, `${path} ${body}`).toMatchObject({ status: 403, code: "ACCESS_DENIED" });
      expect(r.message).toMatch(/builtin:admin-no-plaintext/);
      expect(r.text).not.toMatch(/ciphertext|base64|invalid request/i);
    }
    expect((await recordsOf(WHO.admin, seq)).map((x) => [x.operation, x.outcome])).toEqual(bodies.map(() => ["authz.decrypt", "denied"]));
  });

  it("a caller who may do the operation still gets the parse error (400), and a well-formed request its full decision", async () => {
    // the trainer may decrypt: its malformed ciphertext is a usage error, as before
    expect(await raw("trainer", "POST", "/v1/decrypt", JSON.stringify({ ciphertext: "UFNFMQ==" }))).toMatchObject({ status: 400, code: "INVALID_ARGUMENT" });
    // a policy administrator learns the line and column of its own mistake
    const pa = await raw("pa1", "POST", "/v1/policy/proposals", JSON.stringify({ policy: "version: 1\nrules: [" }));
    expect(pa).toMatchObject({ status: 400, code: "INVALID_ARGUMENT" });
    expect(pa.message).toMatch(/\d+:\d+|line/);
    // the full decision still runs on the key: a prod trainer decrypting a dev ciphertext is denied by environment isolation
    const dev = h.keyring("devTrainer");
    const { ciphertext } = await dev.client.call<{ ciphertext: string }>("POST", "/v1/encrypt", {
      keyName: "dev/datasets/raw",
      plaintext: randomBytes(8).toString("base64"),
    });
    const seq = await head();
    const cross = await raw("trainer", "POST", "/v1/decrypt", JSON.stringify({ ciphertext }));
    expect(cross).toMatchObject({ status: 403, code: "ACCESS_DENIED" });
    expect(cross.message).toMatch(/builtin:environment-isolation/);
    expect((await recordsOf(WHO.trainer, seq)).map((x) => [x.operation, x.outcome, x.keyName])).toEqual([["authz.decrypt", "denied", "dev/datasets/raw"]]);
  });

  it("on every route: a caller with no role is refused before its body or query is parsed, each refusal audited with the route's operation", async () => {
    const routes = [...Object.values(ROUTES), AUDIT_EXPORT_ROUTE].filter((r) => r.op !== null);
    expect(routes.length).toBeGreaterThan(25);
    for (const r of routes) {
      const seq = await head();
      // input that would fail JSON parsing or query validation if it were looked at
      const res =
        r.method === "POST" ? await raw("stranger", "POST", r.path, "{ definitely not json") : await raw("stranger", "GET", `${r.path}?bogus=%zz&limit=-1`);
      expect([r.path, res.status, res.code], res.text).toEqual([r.path, 403, "ACCESS_DENIED"]);
      expect(
        (await recordsOf(WHO.stranger, seq)).map((x) => [x.operation, x.outcome]),
        r.path,
      ).toEqual([[`authz.${r.op}`, "denied"]]);
    }
  });

  it("a bearer token narrowed to other operations is refused by the gate too, unparsed", async () => {
    const { token } = await h.keyring("trainer").mintToken({ operations: ["key.list"] });
    const res = await request(`${h.svc.url}/v1/decrypt`, {
      method: "POST",
      body: "garbage",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      dispatcher: as("trainer"),
    });
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    expect([res.statusCode, body.error.code]).toEqual([403, "ACCESS_DENIED"]);
    expect(body.error.message).toMatch(/builtin:token-scope/);
  });
});

describe("key list shows only what key show would", () => {
  const names = async (who: Who) => (await h.keyring(who).listKeys()).map((k) => k.name).sort();

  it("a prod workload sees no dev key (names, versions, wrap counts), a dev workload no prod key", async () => {
    expect(await names("trainer")).toEqual(["prod/datasets/raw", "prod/models/m", "shared/small"]);
    expect(await names("devTrainer")).toEqual(["dev/datasets/raw", "dev/scratch", "shared/small"]);
    // and each listed key is one key show allows, each hidden one is denied
    const trainer = h.keyring("trainer");
    for (const k of ["dev/datasets/raw", "dev/scratch", "misc/unlisted"])
      await expect(trainer.showKey(k)).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
    for (const k of await names("trainer")) expect((await trainer.showKey(k)).name).toBe(k);
  });

  it("a key administrator in prod lists prod and shared keys, not dev ones; the listing is ONE record, key.list's own, carrying its rule", async () => {
    const seq = await head();
    const listed = await names("admin");
    expect(listed).toEqual(expect.arrayContaining(["misc/unlisted", "prod/datasets/raw", "prod/models/m", "shared/small"]));
    expect(listed.filter((k) => k.startsWith("dev/"))).toEqual([]);
    const added = await recordsOf(WHO.admin, seq);
    expect(added.map((x) => [x.operation, x.outcome, (JSON.parse(x.context ?? "{}") as Record<string, string>)["@rule"]])).toEqual([["key.list", "ok", "ops"]]);
  });

  it("a principal with key.list but no key.show on any key lists nothing", async () => {
    // the harness auditor holds key.list (rule audit) and no key.show
    expect(await names("auditor")).toEqual([]);
  });

  it("a token narrowed to key.list lists what its principal may show", async () => {
    const { token } = await h.keyring("trainer").mintToken({ operations: ["key.list"] });
    expect((await h.keyring("trainer", { token }).listKeys()).map((k) => k.name).sort()).toEqual(["prod/datasets/raw", "prod/models/m", "shared/small"]);
  });
});
