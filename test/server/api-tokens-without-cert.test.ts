/**
 * `tokensWithoutCertificate: true`: a caller that cannot hold a client certificate uses a
 * bearer token minted over mTLS, over real TLS on loopback. Without a token it gets nothing but
 * the open routes; a bad certificate is still refused at the gate (never treated as "none").
 */
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMtlsDispatcher } from "../../src/pki/mtls/dispatcher.js";
import { RemoteKeyring } from "../../src/client/index.js";
import { parseConfig } from "../../src/server/config.js";
import { startKeyService } from "../../src/server/server.js";
import { manualClock } from "../helpers/clock.js";
import { type Harness, runCli, startHarness, TD, WHO } from "./api-harness.js";

let h: Harness;
let bare: Agent;
const clock = manualClock(); // the service's clock: token expiry is reached by moving it, not by waiting
beforeAll(async () => {
  h = await startHarness({
    now: clock.now,
    config: `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/prod/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\ntokensWithoutCertificate: true\n`,
  });
  // trusts the service's CA, presents no certificate
  bare = new Agent({ connect: { ca: readFileSync(path.join(h.certs.trainer, "ca.pem")), rejectUnauthorized: true } });
});
afterAll(async () => {
  await bare?.close();
  await h?.close();
});

const ctx = { dataset: "raw" };

async function call(method: "GET" | "POST", route: string, options: { token?: string; body?: unknown; dispatcher?: Agent } = {}) {
  const res = await request(`${h.svc.url}${route}`, {
    method,
    dispatcher: options.dispatcher ?? bare,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.body ? { "content-type": "application/json" } : {}) },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

describe("bearer tokens without a client certificate", () => {
  it("without a token: the open routes answer, everything else is 401 UNAUTHENTICATED", async () => {
    expect(await call("GET", "/healthz")).toEqual({ status: 200, body: { ok: true } });
    expect(await call("GET", "/v1/keys")).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHENTICATED", message: expect.stringMatching(/certificate or a bearer token/) } },
    });
    expect(await call("GET", "/v1/keys", { token: "pst1.not-a-token" })).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
  });

  it("a token minted over mTLS unwraps as its identity, is audited as that identity, cannot mint, and expires", async () => {
    const trainer = h.keyring("trainer");
    const dk = randomBytes(32);
    const entry = await trainer.wrap("prod/datasets/raw", dk, ctx);
    const { token } = await trainer.mintToken({ ttlSeconds: 2 });
    const wrappedKey = { keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: Buffer.from(entry.wrapped).toString("base64") };
    const r = await call("POST", "/v1/unwrap", { token, body: { wrappedKey, context: ctx, object: { operation: "decrypt", path: "no-cert.pseal" } } });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body.plaintext, "base64").equals(dk)).toBe(true);
    // one record, the unwrap's own, as the token's identity and with the rule that allowed it
    const last = (await h.svc.store.listAudit({ limit: 1 })).map((x) => [
      x.operation,
      x.principal,
      x.outcome,
      x.objectPath,
      (JSON.parse(x.context ?? "{}") as Record<string, string>)["@rule"],
    ]);
    expect(last).toEqual([["decrypt", WHO.trainer, "ok", "no-cert.pseal", "train"]]);
    // a token cannot mint tokens, with or without a certificate
    expect(await call("POST", "/v1/tokens", { token, body: {} })).toMatchObject({ status: 403, body: { error: { code: "ACCESS_DENIED" } } });
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(await call("GET", "/v1/keys", { token: forged })).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
    // valid up to its last millisecond, refused from its expiry on
    clock.advance(1999);
    expect(await call("GET", "/v1/keys", { token })).toMatchObject({ status: 200 });
    clock.advance(1);
    expect(await call("GET", "/v1/keys", { token })).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHENTICATED", message: expect.stringMatching(/expired/) } },
    });
  });

  it("the policy still decides: a token of an identity with no rule for the key is denied", async () => {
    const { token } = await h.keyring("pa1").mintToken({ ttlSeconds: 60 });
    const entry = await h.keyring("trainer").wrap("prod/datasets/raw", randomBytes(32), ctx);
    const wrappedKey = { keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: Buffer.from(entry.wrapped).toString("base64") };
    expect(await call("POST", "/v1/unwrap", { token, body: { wrappedKey, context: ctx, object: { operation: "decrypt" } } })).toMatchObject({
      status: 403,
      body: { error: { code: "ACCESS_DENIED" } },
    });
  });

  it("a certificate that is presented must still pass: another CA's, or an identity outside the allow-list, gets no answer even with a valid token", async () => {
    const { token } = await h.keyring("trainer").mintToken({ ttlSeconds: 60 });
    const ca = readFileSync(path.join(h.certs.trainer, "ca.pem"));
    const foreign = createMtlsDispatcher({
      cert: readFileSync(path.join(h.certs.foreign, "cert.pem")),
      key: readFileSync(path.join(h.certs.foreign, "key.pem")),
      ca,
      expect: [`${TD}/*/*`],
    });
    const outside = createMtlsDispatcher({ certDir: h.certs.devTrainer, expect: [`${TD}/*/*`] }); // dev/* is not in allow
    try {
      for (const dispatcher of [foreign, outside]) {
        const answer = await call("GET", "/v1/keys", { token, dispatcher: dispatcher as unknown as Agent }).catch((e: unknown) => e);
        expect(answer).not.toMatchObject({ status: 200 });
        if (!(answer instanceof Error)) expect((answer as { status: number }).status).toBe(403); // refused by the gate before HTTP
      }
    } finally {
      await foreign.close();
      await outside.close();
    }
  });
});

describe("the client without a certificate: RemoteKeyring({ caFile, token }) and the CLI's --ca with PIPESEAL_TOKEN", () => {
  it("RemoteKeyring unwraps with a token and the CA file; it refuses to start without a token, and a foreign CA file gets no connection", async () => {
    const dk = randomBytes(32);
    const entry = await h.keyring("trainer").wrap("prod/datasets/raw", dk, ctx);
    const { token } = await h.keyring("trainer").mintToken({ ttlSeconds: 60 });
    const caFile = path.join(h.certs.trainer, "ca.pem");
    const kr = new RemoteKeyring({ url: h.svc.url, caFile, token, id: "ks:test", retry: { attempts: 1 } });
    try {
      expect((await kr.unwrap(entry, ctx, { operation: "decrypt", path: "lib.pseal" })).equals(dk)).toBe(true);
    } finally {
      await kr.close();
    }
    expect((await h.svc.store.listAudit({ limit: 1 }))[0]).toMatchObject({ operation: "decrypt", principal: WHO.trainer, objectPath: "lib.pseal" });
    expect(() => new RemoteKeyring({ url: h.svc.url, caFile })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/bearer token is required/) }),
    );
    const strange = new RemoteKeyring({ url: h.svc.url, caFile: path.join(h.certs.foreign, "ca.pem"), token, retry: { attempts: 1 } });
    try {
      await expect(strange.listKeys()).rejects.toMatchObject({ code: expect.stringMatching(/CERT_REJECTED|TLS_CONNECT_FAILED/) });
    } finally {
      await strange.close();
    }
  });

  it("the CLI: `token mint` over mTLS prints a token; `--ca` with PIPESEAL_TOKEN then works without a certificate; without the token it is a usage error", async () => {
    const minted = await runCli(["--server", h.svc.url, "--cert", h.certs.trainer, "token", "mint", "--ttl", "2m", "--operations", "key.list"]);
    expect(minted.stderr).toBe("");
    expect(minted.status).toBe(0);
    const token = minted.stdout.toString().trim();
    expect(token).toMatch(/^pst1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const caFile = path.join(h.certs.trainer, "ca.pem");
    const listed = await runCli(["--server", h.svc.url, "--ca", caFile, "key", "list", "--json"], { PIPESEAL_TOKEN: token });
    expect(listed.stderr).toBe("");
    expect(listed.status).toBe(0);
    expect((JSON.parse(listed.stdout.toString()) as { name: string }[]).map((k) => k.name)).toContain("prod/datasets/raw");
    // narrowed to key.list: anything else is refused by the service (exit 7)
    expect((await runCli(["--server", h.svc.url, "--ca", caFile, "key", "show", "prod/datasets/raw"], { PIPESEAL_TOKEN: token })).status).toBe(7);
    const noToken = await runCli(["--server", h.svc.url, "--ca", caFile, "key", "list"]);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/PIPESEAL_TOKEN/);
  });
});

describe("the allow-list still governs a token's identity", () => {
  it("a token of an identity the service no longer lets in is refused without a certificate (restart with a narrower allow)", async () => {
    const wide = await startHarness(); // allow: every env
    try {
      const { token } = await wide.keyring("devTrainer").mintToken({ ttlSeconds: 120 });
      await wide.svc.close();
      const narrow = await startKeyService(
        parseConfig(
          `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/prod/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\ntokensWithoutCertificate: true\n`,
          wide.dir,
        ),
      );
      const agent = new Agent({ connect: { ca: readFileSync(path.join(wide.certs.trainer, "ca.pem")), rejectUnauthorized: true } });
      try {
        const res = await request(`${narrow.url}/v1/keys`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(401);
        expect(await res.body.json()).toMatchObject({ error: { code: "UNAUTHENTICATED", message: expect.stringMatching(/not allowed in/) } });
      } finally {
        await agent.close();
        await narrow.close();
      }
    } finally {
      await wide.close().catch(() => undefined); // its service is already closed
      rmSync(wide.dir, { recursive: true, force: true });
    }
  });
});

describe("the tokensWithoutCertificate setting", () => {
  const base = `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs\nallow: ["${TD}/*/*"]\nstore: { kind: sqlite, home: ks }\n`;
  it("is off unless set to true, and anything but a boolean is refused", () => {
    expect(parseConfig(base, "/srv").tokensWithoutCertificate).toBe(false);
    expect(parseConfig(`${base}tokensWithoutCertificate: true\n`, "/srv").tokensWithoutCertificate).toBe(true);
    expect(() => parseConfig(`${base}tokensWithoutCertificate: "yes"\n`, "/srv")).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: expect.stringMatching(/keyservice\.yaml:\d+:\d+: tokensWithoutCertificate: must be true or false/),
      }),
    );
  });
});
