/**
 * Token keys do not outlive their version: over real TLS, a token signed by a version that is
 * then disabled or destroyed is refused at once, and a mint right after a rotation names the
 * new primary. A change made elsewhere (another replica, here a second store on the same
 * keystore) reaches this replica within the documented bound (an injected clock moves it).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/server/store/sqlite.js";
import { TOKEN_KEY_NAME, TOKEN_STATE_MAX_STALE_MS, tokenKeysFor } from "../../src/server/token-keys.js";
import { mintToken, verifyToken } from "../../src/server/tokens.js";
import { type Harness, startHarness, TD, WHO } from "./api-harness.js";

let h: Harness;
let bare: Agent;
beforeAll(async () => {
  h = await startHarness({
    config: `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/prod/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\ntokensWithoutCertificate: true\n`,
  });
  bare = new Agent({ connect: { ca: readFileSync(path.join(h.certs.trainer, "ca.pem")), rejectUnauthorized: true } });
});
afterAll(async () => {
  await bare?.close();
  await h?.close();
});

async function keysWith(token: string) {
  const res = await request(`${h.svc.url}/v1/keys`, { method: "GET", dispatcher: bare, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

function kvOf(token: string): number {
  return JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")).kv;
}

describe("token keys follow their key version's state (real TLS)", () => {
  it("rotate, then mint at once: the new token names the new primary; disable and destroy the old version: its tokens are refused at once", async () => {
    const trainer = h.keyring("trainer");
    const admin = h.keyring("admin");
    const before = await trainer.mintToken({ ttlSeconds: 600 });
    expect(kvOf(before.token)).toBe(1);
    expect((await keysWith(before.token)).status).toBe(200);

    expect((await admin.rotateKey(TOKEN_KEY_NAME)).primaryVersion).toBe(2);
    const after = await trainer.mintToken({ ttlSeconds: 600 });
    expect(kvOf(after.token)).toBe(2);
    expect((await keysWith(before.token)).status).toBe(200); // still enabled: still valid

    await admin.disableVersion(TOKEN_KEY_NAME, 1);
    expect(await keysWith(before.token)).toMatchObject({
      status: 401,
      body: { error: { code: "UNAUTHENTICATED", message: expect.stringMatching(/no longer usable/) } },
    });
    expect((await keysWith(after.token)).status).toBe(200);
    await admin.enableVersion(TOKEN_KEY_NAME, 1);
    expect((await keysWith(before.token)).status).toBe(200);

    await admin.rotateKey(TOKEN_KEY_NAME);
    await admin.destroyVersion(TOKEN_KEY_NAME, 2);
    expect(await keysWith(after.token)).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
    await admin.setMinDecryptVersion(TOKEN_KEY_NAME, 3);
    expect(await keysWith(before.token)).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
    const latest = await trainer.mintToken({ ttlSeconds: 600 });
    expect(kvOf(latest.token)).toBe(3);
    expect((await keysWith(latest.token)).status).toBe(200);
  });

  it("a forged token naming a version that does not exist makes the store derive nothing", async () => {
    const derivations = async () => (await h.svc.store.listAudit()).filter((r) => r.operation === "token-key").length;
    const count = await derivations();
    const { token } = await h.keyring("trainer").mintToken({ ttlSeconds: 60 });
    const [prefix, payload, sig] = token.split(".") as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(payload, "base64url").toString("utf8")), kv: 99 };
    const forged = `${prefix}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}`;
    expect((await keysWith(forged)).status).toBe(401);
    expect(await derivations()).toBe(count);
  });
});

describe("a change through another replica reaches this one within the bound", () => {
  it("a change through this store is seen at once; a disable through a second store on the same keystore once the view is older than the bound", async () => {
    const home = path.join(h.dir, "replicas");
    const { initKeystore } = await import("../../src/keys/index.js");
    await initKeystore(home);
    const a = await openSqliteStore({ home });
    const b = await openSqliteStore({ home });
    try {
      let t = 1_000_000;
      const now = () => t;
      const keysA = await tokenKeysFor(a, { now });
      const keysB = await tokenKeysFor(b, { now });
      const { token } = await mintToken(keysA, WHO.trainer, 600, t);
      await a.rotateKey("admin", TOKEN_KEY_NAME); // through A: A's view drops at once
      expect((await verifyToken(keysA, token, WHO.trainer, t)).kv).toBe(1);
      expect((await mintToken(keysA, WHO.trainer, 60, t)).claims.kv).toBe(2);
      await b.disableVersion("admin", TOKEN_KEY_NAME, 1); // through replica B only
      await expect(verifyToken(keysB, token, WHO.trainer, t)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
      // A read its view before B's change and may use it up to the bound, not longer
      expect((await verifyToken(keysA, token, WHO.trainer, t)).kv).toBe(1);
      t += TOKEN_STATE_MAX_STALE_MS + 1;
      await expect(verifyToken(keysA, token, WHO.trainer, t)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
      // a rotation through B: A mints with the new primary once its view expires
      await b.rotateKey("admin", TOKEN_KEY_NAME);
      t += TOKEN_STATE_MAX_STALE_MS + 1;
      expect((await mintToken(keysA, WHO.trainer, 60, t)).claims.kv).toBe(3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
