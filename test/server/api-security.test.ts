/** Tokens, client certificates, fail-closed audit and 1,000 random malformed requests against the real service. */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMtlsDispatcher } from "../../src/pki/mtls/dispatcher.js";
import { ROUTES } from "../../src/server/schemas.js";
import { manualClock } from "../helpers/clock.js";
import { prng } from "../helpers/prng.js";
import { type Harness, POLICY, startHarness, TD, WHO } from "./api-harness.js";

let h: Harness;
const clock = manualClock(); // the service's clock: token expiry is reached by moving it, not by waiting
beforeAll(async () => {
  h = await startHarness({ now: clock.now });
});
afterAll(async () => h?.close());

const ctx = { dataset: "raw" };

describe("bearer tokens", () => {
  it("work only with the identity that minted them, until they expire", async () => {
    const trainer = h.keyring("trainer");
    const { token, identity, expiresAt } = await trainer.mintToken({ ttlSeconds: 2 });
    expect(identity).toBe(WHO.trainer);
    expect(Date.parse(expiresAt)).toBe(clock.now() + 2000);
    const withToken = h.keyring("trainer", { token });
    const e = await withToken.wrap("prod/datasets/raw", randomBytes(32), ctx);
    expect(await withToken.unwrap(e, ctx, { operation: "decrypt" })).toHaveLength(32);
    // replayed with another client certificate: refused
    const thief = h.keyring("devTrainer", { token });
    await expect(thief.listKeys()).rejects.toMatchObject({ serviceCode: "UNAUTHENTICATED", status: 401 });
    // a token cannot mint tokens
    await expect(withToken.mintToken()).rejects.toMatchObject({ serviceCode: "ACCESS_DENIED" });
    // tampered
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    await expect(h.keyring("trainer", { token: forged }).listKeys()).rejects.toMatchObject({ serviceCode: "UNAUTHENTICATED" });
    // valid up to its last millisecond, refused from its expiry on
    clock.advance(1999);
    expect((await withToken.listKeys()).length).toBeGreaterThan(0);
    clock.advance(1);
    await expect(withToken.listKeys()).rejects.toMatchObject({ serviceCode: "UNAUTHENTICATED", message: expect.stringMatching(/expired/) });
  });

  it("are limited to ≤ 15 minutes and can be narrowed to operations", async () => {
    const trainer = h.keyring("trainer");
    await expect(trainer.mintToken({ ttlSeconds: 901 })).rejects.toMatchObject({ status: 400 });
    const { token } = await trainer.mintToken({ operations: ["key.list"] });
    const narrow = h.keyring("trainer", { token });
    expect((await narrow.listKeys()).length).toBeGreaterThan(0);
    await expect(narrow.wrap("prod/datasets/raw", randomBytes(32), ctx)).rejects.toMatchObject({
      serviceCode: "ACCESS_DENIED",
      message: expect.stringMatching(/builtin:token-scope/),
    });
  });
});

describe("client certificates", () => {
  it("a client without a certificate or with one from another CA never gets an answer", async () => {
    const ca = readFileSync(path.join(h.certs.trainer, "ca.pem"));
    const bare = new Agent({ connect: { ca, rejectUnauthorized: true } });
    await expect(request(`${h.svc.url}/healthz`, { dispatcher: bare })).rejects.toThrow();
    await bare.close();
    const foreign = createMtlsDispatcher({
      cert: readFileSync(path.join(h.certs.foreign, "cert.pem")),
      key: readFileSync(path.join(h.certs.foreign, "key.pem")),
      ca,
      expect: [`${TD}/*/*`],
    });
    await expect(request(`${h.svc.url}/healthz`, { dispatcher: foreign })).rejects.toThrow();
    await foreign.close();
    await expect(h.keyring("trainer", { certDir: h.certs.foreign, retry: { attempts: 1 } }).listKeys()).rejects.toMatchObject({
      code: expect.stringMatching(/CERT_REJECTED|TLS_CONNECT_FAILED/),
    });
  });

  it("an identity off the allow-list is refused before its request is read", async () => {
    const narrow = await startHarness({
      config: `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/prod/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\n`,
    });
    try {
      await expect(narrow.keyring("devTrainer", { retry: { attempts: 1 } }).listKeys()).rejects.toMatchObject({
        code: "CERT_REJECTED",
        reason: "identity-not-allowed",
      });
      expect((await narrow.keyring("trainer").listKeys()).length).toBeGreaterThan(0);
    } finally {
      await narrow.close();
    }
  });
});

describe("fail closed", () => {
  it("no unwrap succeeds (503, no plaintext) while its record cannot be written", async () => {
    const trainer = h.keyring("trainer", { retry: { attempts: 1 } });
    const dk = randomBytes(32);
    const e = await trainer.wrap("prod/datasets/raw", dk, ctx);
    // the audit table refuses every insert, beside the running service (the unwrap's own record is
    // the decision's: there is no separate decision record whose failure would stop it)
    auditSql("CREATE TRIGGER audit_offline BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit offline'); END;");
    try {
      await expect(trainer.unwrap(e, ctx, { operation: "decrypt" })).rejects.toMatchObject({ code: "AUDIT_WRITE_FAILED", status: 503 });
      const raw = await trainer.client
        .call("POST", "/v1/unwrap", {
          wrappedKey: { keyName: e.keyName, keyVersion: e.keyVersion, wrapped: Buffer.from(e.wrapped).toString("base64") },
          context: ctx,
        })
        .catch((x: unknown) => x);
      expect(raw).toMatchObject({ status: 503 });
      expect(JSON.stringify(raw)).not.toContain(dk.toString("base64"));
      // nor a fresh data key: its record (datakey.generate-plaintext, with the rule) commits before the key leaves
      await expect(trainer.client.call("POST", "/v1/datakeys/generate", { keyName: "prod/datasets/raw", context: ctx })).rejects.toMatchObject({ status: 503 });
      await expect(trainer.client.call("POST", "/v1/decrypt", { ciphertext: "UFNFMQ==" })).rejects.toMatchObject({ status: 400 });
    } finally {
      auditSql("DROP TRIGGER IF EXISTS audit_offline;");
    }
    expect(await trainer.unwrap(e, ctx, { operation: "decrypt" })).toEqual(dk);
    expect((await h.svc.store.verifyAudit()).ok).toBe(true);
  });
});

/** A statement on the service's SQLite database, beside the running service (as api.test.ts does). */
function auditSql(statement: string): void {
  const db = new Database(path.join(h.home, "keystore.db"));
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(statement);
  } finally {
    db.close();
  }
}

describe("1,000 random malformed requests", () => {
  it("each gets a 4xx with a typed code; never a 500, never a crash", async () => {
    const seed = Number(process.env.PIPESEAL_FUZZ_SEED ?? 20250602);
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const posts = Object.values(ROUTES)
      .filter((r) => r.method === "POST")
      .map((r) => r.path);
    const wk = { keyName: "prod/datasets/raw", keyVersion: 1, wrapped: randomBytes(60).toString("base64") };
    const junk = (): unknown =>
      pick([null, true, 1.5, -1, 2 ** 53, "", "x".repeat(200), [], {}, [1, "a"], { a: { b: { c: [] } } }, "é\u0000\ud800", randomBytes(8).toString("base64")]);
    const bodies: (() => { body: string; type?: string })[] = [
      () => ({ body: pick(["{", "[", "}", "nul", '{"a":', '{"keyName": "x",}', "\u0000\u0001", '"str"', "12", "[]", "{}{}"]) }),
      () => ({ body: randomBytes(Math.floor(rnd() * 200)).toString("latin1") }),
      () => ({ body: JSON.stringify({ keyName: "prod/datasets/raw", context: ctx, [`unknown${Math.floor(rnd() * 9)}`]: junk() }) }),
      () => ({
        body: JSON.stringify({ keyName: junk(), name: junk(), version: junk(), wrappedKey: junk(), plaintext: junk(), items: junk(), context: junk() }),
      }),
      () => ({ body: JSON.stringify({ name: `prod/nope-${Math.floor(rnd() * 1e6)}`, version: 1 + Math.floor(rnd() * 5) }) }),
      () => ({ body: JSON.stringify({ wrappedKey: { ...wk, keyName: pick(["prod/nope", "dev/datasets/raw", "../../x", "A", ""]) }, context: ctx }) }),
      () => ({ body: JSON.stringify({ wrappedKey: { ...wk, wrapped: pick(["!!!!", "AAA", "A".repeat(400), "===="]) } }) }),
      () => ({ body: JSON.stringify({ wrappedKey: wk, context: { [pick(["", "a b", "__proto__", "x".repeat(200)])]: "v" } }) }),
      () => ({ body: '{"__proto__": {"admin": true}, "name": "prod/x"}' }),
      () => ({ body: '{"constructor": {"prototype": {"x": 1}}, "name": "prod/x"}' }),
      () => ({ body: JSON.stringify({ items: Array.from({ length: 101 }, () => ({ wrappedKey: wk })) }) }),
      () => ({ body: JSON.stringify({ ciphertext: pick(["UFNFMQ==", randomBytes(50).toString("base64"), "AAAA"]), context: ctx }) }),
      () => ({ body: "[".repeat(5000) + "]".repeat(5000) }),
      () => ({ body: JSON.stringify({ keyName: "prod/datasets/raw", plaintext: "A".repeat(1024 * 1024 + 10) }) }),
      // an unknown field too, so no route ever finds it valid (whichever route the seed picks)
      () => ({
        body: JSON.stringify({ name: "prod/datasets/raw", unknownField: 1 }),
        type: pick(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "multipart/form-data"]),
      }),
    ];
    const dispatcher = createMtlsDispatcher({ certDir: h.certs.trainer, expect: [`${TD}/*/*`], agent: { connections: 16 } });
    const codes = new Map<string, number>();
    const failures: string[] = [];
    let i = 0;
    const worker = async () => {
      while (i < 1000) {
        const n = i++;
        const gen = pick(bodies);
        const { body, type } = gen();
        const url = rnd() < 0.05 ? `${h.svc.url}/v1/${pick(["nope", "keys/%zz", "unwrap/../keys", "..%2f"])}` : h.svc.url + pick(posts);
        const method = rnd() < 0.03 ? pick(["PUT", "DELETE", "PATCH"]) : "POST";
        const res = await request(url, { method: method as "POST", body, headers: { "content-type": type ?? "application/json" }, dispatcher });
        const text = await res.body.text();
        let code: unknown;
        try {
          code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
        } catch {
          code = undefined;
        }
        if (res.statusCode < 400 || res.statusCode >= 500 || typeof code !== "string" || /stack|at .*\.js:/i.test(text)) {
          failures.push(`#${n} seed ${seed} ${method} ${url} ${body.slice(0, 120)} → ${res.statusCode} ${text.slice(0, 200)}`);
        }
        codes.set(`${res.statusCode} ${String(code)}`, (codes.get(`${res.statusCode} ${String(code)}`) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await dispatcher.close();
    expect(failures.slice(0, 10)).toEqual([]);
    expect([...codes.keys()].length).toBeGreaterThan(4);
    expect(await h.keyring("trainer").client.call("GET", "/healthz")).toEqual({ ok: true });
  }, 180_000);
});

describe("policy approval refusals carry the honest code", () => {
  it("an unknown proposal: NOT_FOUND for a policy admin, ACCESS_DENIED for anyone else (no oracle), each decision recorded", async () => {
    const before = (await h.svc.store.listAudit()).reduce((m, r) => Math.max(m, r.seq), 0);
    await expect(h.keyring("pa2").approvePolicy("no-such-proposal")).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
    for (const who of ["stranger", "trainer", "admin"] as const) {
      await expect(h.keyring(who).approvePolicy("no-such-proposal")).rejects.toMatchObject({ code: "ACCESS_DENIED", status: 403 });
    }
    // the policy admin was allowed, and its approval failed before it started: the decision with its error
    const decisions = (await h.svc.store.listAudit()).filter((r) => r.seq > before && r.operation === "authz.policy.approve");
    expect(decisions.map((r) => [r.principal, r.outcome, r.errorCode])).toEqual([
      [WHO.pa2, "error", "NOT_FOUND"],
      [WHO.stranger, "denied", "ACCESS_DENIED"],
      [WHO.trainer, "denied", "ACCESS_DENIED"],
      [WHO.admin, "denied", "ACCESS_DENIED"],
    ]);
    // the others were refused before their body (the id) was read: their records name no object
    expect(decisions.map((r) => r.objectPath)).toEqual(["no-such-proposal", null, null, null]);
  });

  it("the proposer approving their own proposal: ACCESS_DENIED with the separation-of-duties rule; approving twice: NOT_FOUND", async () => {
    const { id } = await h.keyring("pa1").proposePolicy(POLICY);
    await expect(h.keyring("pa1").approvePolicy(id)).rejects.toMatchObject({
      code: "ACCESS_DENIED",
      message: expect.stringMatching(/builtin:approver-same-identity/),
    });
    expect(await h.keyring("pa2").approvePolicy(id)).toMatchObject({ id, state: "active" });
    await expect(h.keyring("pa2").approvePolicy(id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
