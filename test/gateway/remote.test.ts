/**
 * The gateway against a real key service (both over real mTLS on 127.0.0.1): it unwraps on
 * behalf of each peer, the service's policy decides for the gateway (a delegate) and for the
 * peer, and the audit names both. Forbidden delegations are attacked directly on the API.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteKeyring } from "../../src/client/index.js";
import { encryptFile } from "../../src/envelope/files.js";
import { type Gateway, remoteBackend, startGateway } from "../../src/gateway/index.js";
import { openKeystore } from "../../src/keys/index.js";
import { issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { type Harness, POLICY, TD, WHO, startHarness } from "../server/api-harness.js";
import { request } from "./harness.js";
import { CLI } from "../cli/run-cli.js";

const GW = `${TD}/prod/gateway`;
const GW2 = `${TD}/prod/gateway-b`;
const DEV_GW = `${TD}/dev/gateway`;
const POLICY_DELEGATES = `${POLICY}delegates:
  - { id: gw-trainers, delegate: "${GW}", for: ["${TD}/prod/trainer", "${TD}/prod/stranger"], operations: [unwrap], keys: ["prod/**"] }
  - { id: dev-gw, delegate: "${DEV_GW}", for: ["${TD}/prod/trainer"] }
`;

let h: Harness;
let clock = Date.now();
const gwCerts: Record<string, string> = {};
let root: string;
let plain: Buffer;
let gw: Gateway;
let gwB: Gateway;
let kr: RemoteKeyring;
const logs: unknown[] = [];

async function startGw(certDir: string, o: { tokens?: boolean } = {}): Promise<Gateway> {
  const k = new RemoteKeyring({ url: h.svc.url, certDir, id: "ks:test", retry: { attempts: 1 } });
  return startGateway({
    root,
    keys: remoteBackend(k, (e) => logs.push(e)),
    tls: { certDir, watch: false },
    allow: [`${TD}/prod/*`],
    now: () => clock,
    ...o,
    log: (e) => logs.push(e),
  });
}

async function records() {
  const auditor = h.keyring("auditor");
  return auditor.listAudit({ limit: 500 });
}

beforeAll(async () => {
  h = await startHarness({
    policy: POLICY_DELEGATES,
    now: () => clock,
    beforeStart: async (dir) => {
      const ks = await openKeystore(path.join(dir, "ks"), { principal: "setup" });
      try {
        for (const id of [GW, GW2, DEV_GW]) {
          const [, env, service] = /\/([^/]+)\/([^/]+)$/.exec(id)!;
          const c = await issueCertificate(ks, { service: service!, env: env!, dns: ["localhost"], ip: ["127.0.0.1"], server: true, client: true });
          gwCerts[id] = path.join(dir, "certs", service! + "-" + env);
          await writeCertDir(gwCerts[id]!, c);
        }
      } finally {
        ks.close();
      }
    },
  });
  root = path.join(h.dir, "root");
  mkdirSync(path.join(root, "train"), { recursive: true });
  plain = randomBytes(50_000);
  writeFileSync(path.join(h.dir, "plain.bin"), plain);
  kr = h.keyring("trainer");
  await encryptFile(kr, path.join(h.dir, "plain.bin"), path.join(root, "train", "shard.bin.pseal"), {
    keyName: "prod/datasets/raw",
    context: { stage: "training" },
    segmentSize: 4096,
  });
  await encryptFile(kr, path.join(h.dir, "plain.bin"), path.join(root, "train", "shared.bin.pseal"), {
    keyName: "shared/small",
    context: { stage: "training" },
    segmentSize: 4096,
  });
  gw = await startGw(gwCerts[GW]!, { tokens: true });
  gwB = await startGw(gwCerts[GW2]!);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await gwB?.close();
  await h?.close();
});

describe("gateway --server: unwrap on behalf of the peer", () => {
  it("serves a peer the delegation covers, and the audit names the gateway and the peer", async () => {
    const r = await request(gw, "/train/shard.bin", { certDir: h.certs.trainer, headers: { range: "bytes=4000-12000" } });
    expect(r.status).toBe(206);
    expect(r.body.equals(plain.subarray(4000, 12001))).toBe(true);
    const all = await records();
    // ONE record: the read's own, about the peer, carrying the gateway that asked, its delegation and the peer's rule
    const unwrap = all.filter((x) => x.operation === "gateway-read" && x.principal === WHO.trainer).at(-1)!;
    expect(unwrap).toMatchObject({ outcome: "ok", keyName: "prod/datasets/raw" });
    expect(JSON.parse(unwrap.context!)).toMatchObject({ "@delegate": GW, "@delegation": "gw-trainers", "@rule": "train" });
    expect(all.filter((x) => x.operation === "authz.unwrap" && x.outcome === "ok")).toEqual([]);
  });

  it("refuses a peer the delegation covers but whose own permissions do not (403, recorded as denied for the peer)", async () => {
    const r = await request(gw, "/train/shard.bin", { certDir: h.certs.stranger });
    expect(r.status).toBe(403);
    expect(r.headers["x-pipeseal-error"]).toBe("ACCESS_DENIED");
    const d = (await records()).filter((x) => x.operation === "authz.unwrap" && x.principal === GW && x.outcome === "denied").at(-1)!;
    expect(JSON.parse(d.context!)).toMatchObject({ "@on-behalf-of": WHO.stranger, "@rule": "builtin:default-deny" });
  });

  it("refuses a key outside the delegation's keys even for a peer allowed the key itself", async () => {
    const r = await request(gw, "/train/shared.bin", { certDir: h.certs.trainer });
    expect(r.status).toBe(403);
    const d = (await records()).filter((x) => x.operation === "authz.unwrap" && x.principal === GW && x.outcome === "denied").at(-1)!;
    expect(d.keyName).toBe("shared/small");
    expect(JSON.parse(d.context!)["@rule"]).toBe("builtin:no-delegation");
  });

  it("a gateway the policy does not name as a delegate gets nothing for anyone", async () => {
    const r = await request(gwB, "/train/shard.bin", { certDir: h.certs.trainer });
    expect(r.status).toBe(403);
    expect(r.body.length).toBeLessThan(400);
  });

  it("the gateway's own refusals and what it served reach the key service's audit, naming the peer", async () => {
    const r = await request(gw, "/train/shard.bin", { certDir: h.certs.devTrainer });
    expect(r.status).toBe(403); // the gateway's --allow is prod only: refused right after the handshake
    gw.sweep();
    clock += 120_000;
    gw.sweep(); // closes the trainer's entry: its gateway.serve summary is recorded
    await new Promise((r) => setTimeout(r, 300));
    const all = await records();
    const deny = all.filter((x) => x.operation === "gateway.reject").at(-1)!;
    expect(deny).toMatchObject({ principal: GW, outcome: "denied", errorCode: "CERT_REJECTED" });
    expect(JSON.parse(deny.context!)["@on-behalf-of"]).toBe(WHO.devTrainer);
    const served = all.filter((x) => x.operation === "gateway.serve").at(-1)!;
    expect(served.principal).toBe(GW);
    expect(JSON.parse(served.context!)).toMatchObject({ "@on-behalf-of": WHO.trainer, ranges: "1" });
  });
});

describe("forbidden delegations, attacked on the API", () => {
  const entryOf = () => kr.wrap("prod/datasets/raw", randomBytes(32), { stage: "training" });
  const unwrapAs = async (certDir: string, body: Record<string, unknown>) => {
    const c = new RemoteKeyring({ url: h.svc.url, certDir, id: "ks:test", retry: { attempts: 1 } });
    const entry = await entryOf();
    try {
      return await c.client
        .call("POST", "/v1/unwrap", {
          wrappedKey: { keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: Buffer.from(entry.wrapped).toString("base64") },
          context: { stage: "training" },
          ...body,
        })
        .then(
          () => "allowed",
          (e: { code: string }) => e.code,
        );
    } finally {
      await c.close();
    }
  };

  it("the gateway cannot unwrap for itself (it holds no unwrap of its own)", async () => {
    expect(await unwrapAs(gwCerts[GW]!, {})).toBe("ACCESS_DENIED");
  });
  it("the gateway can unwrap for a delegated peer (control)", async () => {
    expect(await unwrapAs(gwCerts[GW]!, { onBehalfOf: WHO.trainer })).toBe("allowed");
  });
  it("the gateway cannot act for an identity outside its delegation", async () => {
    expect(await unwrapAs(gwCerts[GW]!, { onBehalfOf: WHO.auditor })).toBe("ACCESS_DENIED");
  });
  it("a workload is not a delegate: it cannot act for another workload", async () => {
    expect(await unwrapAs(h.certs.devTrainer, { onBehalfOf: WHO.trainer })).toBe("ACCESS_DENIED");
  });
  it("a dev delegate cannot act for a prod identity, whatever its entry says", async () => {
    expect(await unwrapAs(gwCerts[DEV_GW]!, { onBehalfOf: WHO.trainer })).toBe("ACCESS_DENIED");
    const d = (await records()).filter((x) => x.operation === "authz.unwrap" && x.principal === DEV_GW).at(-1)!;
    expect(JSON.parse(d.context!)["@rule"]).toBe("builtin:environment-isolation");
  });
  it("a forged or foreign peer token is refused", async () => {
    const own = (await kr.mintToken({ ttlSeconds: 60 })).token;
    // the trainer's token presented as if it were the auditor's
    expect(await unwrapAs(gwCerts[GW]!, { onBehalfOf: WHO.auditor, onBehalfToken: own })).toBe("UNAUTHENTICATED");
    expect(await unwrapAs(gwCerts[GW]!, { onBehalfOf: WHO.trainer, onBehalfToken: own.slice(0, -3) + "AAA" })).toBe("UNAUTHENTICATED");
  });
  it("a peer token narrowed to other operations narrows the delegated unwrap", async () => {
    const narrow = (await kr.mintToken({ ttlSeconds: 60, operations: ["key.list"] })).token;
    expect(await unwrapAs(gwCerts[GW]!, { onBehalfOf: WHO.trainer, onBehalfToken: narrow })).toBe("ACCESS_DENIED");
  });
  it("token.verify and audit.append are for delegates only", async () => {
    const own = (await kr.mintToken({ ttlSeconds: 60 })).token;
    await expect(kr.verifyPeerToken(own)).rejects.toMatchObject({ code: "ACCESS_DENIED" });
    await expect(kr.appendRecords([{ operation: "gateway.serve", outcome: "ok", onBehalfOf: WHO.auditor }])).rejects.toMatchObject({ code: "ACCESS_DENIED" });
    const g = new RemoteKeyring({ url: h.svc.url, certDir: gwCerts[GW]!, id: "ks:test", retry: { attempts: 1 } });
    try {
      await expect(g.verifyPeerToken(own)).resolves.toMatchObject({ identity: WHO.trainer });
      // a token of an identity the delegate does not act for is not checked for it
      const auditorToken = (await h.keyring("devTrainer").mintToken({ ttlSeconds: 60 })).token;
      await expect(g.verifyPeerToken(auditorToken)).rejects.toMatchObject({ code: "ACCESS_DENIED" });
      // a delegate's records are about any peer, but always recorded as the delegate's own
      await g.appendRecords([{ operation: "gateway.deny", outcome: "denied", onBehalfOf: WHO.auditor, errorCode: "GATEWAY_DENIED" }]);
      const last = (await records()).filter((x) => x.operation === "gateway.deny").at(-1)!;
      expect(last.principal).toBe(GW);
      expect(JSON.parse(last.context!)["@on-behalf-of"]).toBe(WHO.auditor);
    } finally {
      await g.close();
    }
  });
});

describe("bearer tokens for peers without a certificate", () => {
  const noCert = (headers: Record<string, string> = {}) => request(gw, "/train/shard.bin", { certDir: null, ca: readCa(), headers });
  const readCa = () => readFileSync(path.join(h.certs.trainer, "ca.pem"), "utf8");

  it("a loader with a token and no certificate reads, as the token's identity", async () => {
    const { token } = await kr.mintToken({ ttlSeconds: 120, operations: ["unwrap"] });
    const r = await noCert({ authorization: `Bearer ${token}`, range: "bytes=0-99" });
    expect(r.status).toBe(206);
    expect(r.body.equals(plain.subarray(0, 100))).toBe(true);
    // the read's own record, about the token's identity, asked by the gateway
    const d = (await records()).filter((x) => x.operation === "gateway-read").at(-1)!;
    expect(d).toMatchObject({ principal: WHO.trainer, outcome: "ok" });
    expect(JSON.parse(d.context!)["@delegate"]).toBe(GW);
  });

  it("no credentials, a malformed or forged token: 401, audited as a refused peer", async () => {
    const { token } = await kr.mintToken({ ttlSeconds: 120 });
    for (const headers of [{}, { authorization: "Bearer x y" }, { authorization: `Bearer ${token.slice(0, -4)}AAAA` }]) {
      const r = await noCert(headers);
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toMatch(/^Bearer/);
    }
    await new Promise((r) => setTimeout(r, 200));
    const rejects = (await records()).filter((x) => x.operation === "gateway.reject");
    expect(rejects.length).toBeGreaterThanOrEqual(3);
    expect(rejects.map((x) => JSON.parse(x.context!).reason)).toEqual(expect.arrayContaining(["no-credentials", "bad-token"]));
  });

  it("an expired token: 401 (clock moved past its expiry, also past the gateway's reuse window)", async () => {
    const { token } = await kr.mintToken({ ttlSeconds: 5, operations: ["unwrap"] });
    expect((await noCert({ authorization: `Bearer ${token}`, range: "bytes=0-9" })).status).toBe(206);
    clock += 6_000;
    expect((await noCert({ authorization: `Bearer ${token}`, range: "bytes=0-9" })).status).toBe(401);
  });

  it("a valid token of an identity the gateway may not act for: 403, and the key service never says whose it is", async () => {
    const { token } = await h.keyring("devTrainer").mintToken({ ttlSeconds: 120, operations: ["unwrap"] });
    const r = await noCert({ authorization: `Bearer ${token}` });
    expect(r.status).toBe(403);
    expect(r.headers["x-pipeseal-error"]).toBe("GATEWAY_DENIED");
    const d = (await records()).filter((x) => x.operation === "authz.token.verify").at(-1)!;
    expect(d).toMatchObject({ principal: GW, outcome: "denied" });
    expect(JSON.parse(d.context!)["@on-behalf-of"]).toBe(WHO.devTrainer);
  });

  it("a token narrowed away from unwrap gets no plaintext", async () => {
    const { token } = await kr.mintToken({ ttlSeconds: 120, operations: ["key.list"] });
    const r = await noCert({ authorization: `Bearer ${token}` });
    expect(r.status).toBe(403);
  });

  it("another CA's certificate is refused even with a valid token beside it (never downgraded to a token peer)", async () => {
    const { token } = await kr.mintToken({ ttlSeconds: 60, operations: ["unwrap"] });
    const r = await request(gw, "/train/shard.bin", { certDir: h.certs.foreign, ca: readCa(), headers: { authorization: `Bearer ${token}` } }).catch(
      (e: Error) => ({ status: 0, error: e, body: Buffer.alloc(0), headers: {} }),
    );
    expect(r.status === 0 || r.status === 403).toBe(true);
    expect(r.body.includes(plain.subarray(0, 64))).toBe(false);
  });

  it("the key service unreachable: 503 for a token peer and a certificate peer, never a read", async () => {
    const k = new RemoteKeyring({ url: "https://127.0.0.1:1", certDir: gwCerts[GW]!, id: "ks:test", retry: { attempts: 1 }, timeoutMs: 2000 });
    const down = await startGateway({
      root,
      keys: remoteBackend(k, () => undefined),
      tls: { certDir: gwCerts[GW]!, watch: false },
      allow: [`${TD}/prod/*`],
      tokens: true,
    });
    try {
      const { token } = await kr.mintToken({ ttlSeconds: 60 });
      const viaToken = await request(down, "/train/shard.bin", { certDir: null, ca: readCa(), headers: { authorization: `Bearer ${token}` } });
      expect(viaToken.status).toBe(503);
      const viaCert = await request(down, "/train/shard.bin", { certDir: h.certs.trainer });
      expect(viaCert.status).toBe(503);
      expect(viaCert.body.includes(plain.subarray(0, 64))).toBe(false);
    } finally {
      await down.close();
      await k.close();
    }
  });

  it("a gateway without --tokens still demands a certificate (the TLS handshake refuses)", async () => {
    await expect(request(gwB, "/train/shard.bin", { certDir: null, ca: readCa() })).rejects.toThrow();
  });
});

describe("pipeseal gateway --server --tokens (the built CLI; curl as the loader)", () => {
  const curl = (args: string[]) =>
    new Promise<{ status: number; stdout: Buffer; http: string }>((resolve) =>
      execFile(
        "curl",
        ["-sS", "--cacert", path.join(h.certs.trainer, "ca.pem"), "-w", "\n%{http_code}", ...args],
        { encoding: "buffer", maxBuffer: 1 << 24 },
        (e, out) => {
          const text = out.toString("latin1");
          const cut = text.lastIndexOf("\n");
          resolve({ status: e ? Number((e as { code?: unknown }).code ?? 1) : 0, stdout: out.subarray(0, cut), http: text.slice(cut + 1) });
        },
      ),
    );

  it("a curl with a bearer token and no client certificate reads a range; without one it gets 401", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "gateway", "--root", root, "--listen", "127.0.0.1:0", "--cert", gwCerts[GW]!, "--allow", `${TD}/prod/*`, "--server", h.svc.url, "--tokens"],
      {
        env: { PATH: process.env.PATH ?? "", PIPESEAL_KEYRING_ID: "ks:test" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = "";
        child.stderr!.on("data", (d: Buffer) => {
          err += d;
          const m = /serving .* on (https:\/\/\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.on("exit", () => reject(new Error(err)));
      });
      const { token } = await kr.mintToken({ ttlSeconds: 120, operations: ["unwrap"] });
      const r = await curl(["-H", `Authorization: Bearer ${token}`, "-r", "10000-20000", `${url}/train/shard.bin`]);
      expect(r.http).toBe("206");
      expect(r.stdout.equals(plain.subarray(10000, 20001))).toBe(true);
      expect((await curl([`${url}/train/shard.bin`])).http).toBe("401");
      // SIGTERM closes it gracefully: the open window's summary is sent to the key service before the exit
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const served = (await records())
        .filter((x) => x.operation === "gateway.serve" && x.principal === GW)
        .map((x) => JSON.parse(x.context!) as Record<string, string>);
      expect(served).toContainEqual(expect.objectContaining({ requests: "1", ranges: "1", bytes: "10001" }));
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
    }
  }, 30_000);

  it("--tokens without --server is refused with one line", async () => {
    const out = await new Promise<string>((resolve) =>
      execFile(process.execPath, [CLI, "gateway", "--root", root, "--cert", gwCerts[GW]!, "--allow", `${TD}/prod/*`, "--tokens"], (_e, _o, err) =>
        resolve(String(err)),
      ),
    );
    expect(out).toMatch(/^pipeseal: --tokens needs --server.*\[INVALID_ARGUMENT\]\n$/);
  });
});
