/** The gateway over real mTLS on 127.0.0.1 with node's https client: HTTP semantics, refusals, audit. */
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync, closeSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectFile } from "../../src/envelope/inspect.js";
import type { Gateway } from "../../src/gateway/index.js";
import { parseGatewayPolicy } from "../../src/gateway/policy.js";
import { TD, type World, gateway, makeWorld, request } from "./harness.js";

let w: World;
let gw: Gateway;
let trainer: string;
let evaluator: string;
let clock = 1_000_000;
const plain = randomBytes(50_000); // 4 KiB segments: 13 segments
const audit = () => w.ks.listAudit({});

beforeAll(async () => {
  w = await makeWorld();
  trainer = await w.client("trainer-a");
  evaluator = await w.client("evaluator");
  await w.seal("train/shard-0.jsonl", plain);
  await w.seal("train/sub/shard-1.jsonl", randomBytes(10));
  await w.seal("train/.hidden.jsonl", randomBytes(10));
  mkdirSync(path.join(w.root, ".secret"), { recursive: true });
  await w.seal(".secret/a.jsonl", randomBytes(10));
  writeFileSync(path.join(w.root, "train", "notes.txt"), "plaintext that must never be served");
  writeFileSync(path.join(w.root, "train", "fake.jsonl.pseal"), "not sealed at all");
  // symlinks leaving the root: to a sealed file outside, and to a folder outside
  const outside = path.join(w.dir, "outside");
  mkdirSync(outside);
  const { encryptFile } = await import("../../src/envelope/files.js");
  writeFileSync(path.join(outside, "p"), "outside secret");
  await encryptFile(w.ks, path.join(outside, "p"), path.join(outside, "x.jsonl.pseal"), { keyName: "datasets/raw", context: { stage: "training" } });
  symlinkSync(path.join(outside, "x.jsonl.pseal"), path.join(w.root, "train", "link.jsonl.pseal"));
  symlinkSync(outside, path.join(w.root, "train", "outdir"));
  gw = await gateway(w, { now: () => clock, keyTtlMs: 60_000 });
});
afterAll(() => gw?.close());

describe("HEAD and GET", () => {
  it("HEAD gives the authenticated plaintext length and the validators", async () => {
    const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, method: "HEAD" });
    const info = await inspectFile(path.join(w.root, "train/shard-0.jsonl.pseal"));
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(plain.length));
    expect(r.headers["accept-ranges"]).toBe("bytes");
    expect(r.headers["etag"]).toBe(`"${info.headerHash}"`);
    expect(Date.parse(String(r.headers["last-modified"]))).toBeGreaterThan(0);
    expect(r.headers["content-type"]).toBe("application/jsonl");
    expect(r.body.length).toBe(0);
  });

  it("GET streams the whole object byte-identical", async () => {
    const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer });
    expect([r.status, r.aborted]).toEqual([200, false]);
    expect(r.body.equals(plain)).toBe(true);
  });

  it("answers a-b (across segment boundaries), a- and -n with 206 and Content-Range", async () => {
    for (const [spec, s, e] of [
      ["bytes=4000-12500", 4000, 12500],
      ["bytes=49990-", 49990, 49999],
      ["bytes=-100", 49900, 49999],
      ["bytes=0-0", 0, 0],
      ["bytes=40000-999999", 40000, 49999],
    ] as const) {
      const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { range: spec } });
      expect([spec, r.status, r.headers["content-range"]]).toEqual([spec, 206, `bytes ${s}-${e}/${plain.length}`]);
      expect(r.body.equals(plain.subarray(s, e + 1))).toBe(true);
    }
  });

  it("416 for an unsatisfiable range; ignores malformed and multiple ranges", async () => {
    for (const spec of ["bytes=50000-", "bytes=-0", "bytes=60000-70000"]) {
      const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { range: spec } });
      expect([spec, r.status, r.headers["content-range"]]).toEqual([spec, 416, `bytes */${plain.length}`]);
    }
    for (const spec of ["bytes=5-1", "items=0-5", "bytes=0-1,5-6"]) {
      const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { range: spec } });
      expect([spec, r.status, r.body.length]).toEqual([spec, 200, plain.length]);
    }
  });

  it("honours If-None-Match and If-Range", async () => {
    const etag = String((await request(gw, "/train/shard-0.jsonl", { certDir: trainer, method: "HEAD" })).headers["etag"]);
    expect((await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { "if-none-match": `W/${etag}` } })).status).toBe(304);
    expect((await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { "if-none-match": '"other"' } })).status).toBe(200);
    const same = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { range: "bytes=10-19", "if-range": etag } });
    expect([same.status, same.body.equals(plain.subarray(10, 20))]).toEqual([206, true]);
    const changed = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, headers: { range: "bytes=10-19", "if-range": '"stale"' } });
    expect([changed.status, changed.body.length]).toEqual([200, plain.length]);
  });

  it("refuses other methods", async () => {
    const r = await request(gw, "/train/shard-0.jsonl", { certDir: trainer, method: "PUT" });
    expect([r.status, r.headers["x-pipeseal-error"], r.headers["allow"]]).toEqual([400, "INVALID_ARGUMENT", "GET, HEAD"]);
  });
});

describe("paths", () => {
  it("refuses traversal, encoded traversal, hidden names, plaintext files, non-sealed files and symlinks leaving the root", async () => {
    const cases: [string, number][] = [
      ["/../ks/keystore.db", 400],
      ["/train/../../ks/master.key", 400],
      ["/%2e%2e/ks/keystore.db", 400],
      ["/train/%2E%2E/%2e%2e/ks/master.key", 400],
      ["/train%2f..%2f..%2fks%2fmaster.key", 400],
      ["/train/..%5c..%5cks", 400],
      ["/train/%00", 400],
      ["/train/%zz", 400],
      ["/train//shard-0.jsonl", 400],
      ["/train/.hidden.jsonl", 404],
      ["/.secret/a.jsonl", 404],
      ["/.secret/", 404],
      ["/train/notes.txt", 404],
      ["/train/shard-0.jsonl.pseal", 404],
      ["/train/fake.jsonl", 404],
      ["/train/link.jsonl", 404],
      ["/train/outdir/x.jsonl", 404],
      ["/train/outdir/", 404],
      ["/nope.jsonl", 404],
    ];
    for (const [p, status] of cases) {
      const r = await request(gw, p, { certDir: trainer });
      expect([p, r.status]).toEqual([p, status]);
      expect(r.body.toString()).not.toMatch(/secret|plaintext that/);
    }
  });
});

describe("listings", () => {
  it("an HTML index of absolute hrefs, with or without the trailing slash", async () => {
    for (const p of ["/train/", "/train"]) {
      const r = await request(gw, p, { certDir: trainer });
      expect(r.status).toBe(200);
      const hrefs = [...r.body.toString().matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
      expect(hrefs.sort()).toEqual(["/train/shard-0.jsonl", "/train/sub/"]);
    }
  });

  it("?format=json names size, ETag, key, version and context", async () => {
    const r = await request(gw, "/train/?format=json", { certDir: trainer });
    const j = JSON.parse(r.body.toString());
    const info = await inspectFile(path.join(w.root, "train/shard-0.jsonl.pseal"));
    expect(j.entries).toEqual([
      {
        name: "shard-0.jsonl",
        type: "file",
        size: plain.length,
        etag: `"${info.headerHash}"`,
        lastModified: expect.any(String),
        key: "datasets/raw",
        version: 1,
        context: { dataset: "shards", stage: "training" },
      },
      { name: "sub/", type: "directory" },
    ]);
  });
});

describe("audit", () => {
  it("one unwrap per principal × object in the window, naming the peer; the summary when it closes", async () => {
    await w.seal("audit/a.bin", randomBytes(20_000));
    const before = audit().length;
    await request(gw, "/audit/a.bin", { certDir: trainer, method: "HEAD" });
    await request(gw, "/audit/a.bin", { certDir: trainer, headers: { range: "bytes=0-99" } });
    await request(gw, "/audit/a.bin", { certDir: trainer });
    const reads = audit()
      .slice(before)
      .filter((r) => r.operation === "gateway-read");
    expect(reads.map((r) => [r.principal, r.outcome, r.objectPath, r.context])).toEqual([
      [`spiffe://${TD}/prod/trainer-a`, "ok", path.join(w.root, "audit/a.bin.pseal"), '{"dataset":"shards","stage":"training"}'],
    ]);
    expect(reads[0]!.headerHash).toMatch(/^[0-9a-f]{64}$/);
    expect(gw.openObjects).toBeGreaterThan(0);
    clock += 60_001;
    gw.sweep();
    expect(gw.openObjects).toBe(0); // readers closed, FLOE keys wiped
    const served = audit()
      .slice(before)
      .filter((r) => r.operation === "gateway.serve" && r.objectPath?.endsWith("a.bin.pseal"));
    expect(served.map((r) => [r.principal, r.outcome, JSON.parse(r.context!)])).toEqual([
      [`spiffe://${TD}/prod/trainer-a`, "ok", { requests: "3", ranges: "1", bytes: "20100" }],
    ]);
    // after the window a new request is a new audited unwrap
    await request(gw, "/audit/a.bin", { certDir: trainer, method: "HEAD" });
    expect(
      audit()
        .slice(before)
        .filter((r) => r.operation === "gateway-read"),
    ).toHaveLength(2);
  });

  it("--allow is exact: a peer the TLS gate lets in but the pattern does not match gets 403, audited, and no unwrap", async () => {
    const before = audit().length;
    const r = await request(gw, "/train/shard-0.jsonl", { certDir: evaluator });
    expect([r.status, r.headers["x-pipeseal-error"]]).toEqual([403, "GATEWAY_DENIED"]);
    const recs = audit().slice(before);
    expect(recs.map((x) => [x.operation, x.principal, x.outcome, x.errorCode])).toEqual([
      ["gateway.deny", `spiffe://${TD}/prod/evaluator`, "denied", "GATEWAY_DENIED"],
    ]);
  });
});

describe("policy (gateway.yaml)", () => {
  let pgw: Gateway;
  beforeAll(async () => {
    await w.seal("eval/e.jsonl", randomBytes(100), { context: { stage: "eval" } });
    await w.seal("train/eval-ctx.jsonl", randomBytes(100), { context: { stage: "eval" } });
    const policy = parseGatewayPolicy(
      `rules:\n  - identities: ["spiffe://${TD}/prod/trainer*"]\n    paths: ["train/**"]\n    context: { stage: training }\n  - identities: ["spiffe://${TD}/prod/evaluator"]\n    paths: ["eval/*.jsonl"]\n`,
    );
    pgw = await gateway(w, { allow: undefined, policy });
  });
  afterAll(() => pgw?.close());

  it("admits what a rule admits, denies the rest (403, audited), and lists only what the peer may read", async () => {
    expect((await request(pgw, "/train/shard-0.jsonl", { certDir: trainer })).status).toBe(200);
    expect((await request(pgw, "/eval/e.jsonl", { certDir: evaluator })).status).toBe(200);
    const before = audit().length;
    for (const [who, p, reason] of [
      [evaluator, "/train/shard-0.jsonl", "no-rule"],
      [trainer, "/eval/e.jsonl", "no-rule"],
      [trainer, "/train/eval-ctx.jsonl", "context-mismatch"],
    ] as const) {
      const r = await request(pgw, p, { certDir: who });
      expect([p, r.status, r.headers["x-pipeseal-error"]]).toEqual([p, 403, "GATEWAY_DENIED"]);
      expect(audit().at(-1)).toMatchObject({ operation: "gateway.deny", outcome: "denied", context: JSON.stringify({ reason }) });
    }
    expect(
      audit()
        .slice(before)
        .filter((r) => r.operation === "gateway-read"),
    ).toHaveLength(0); // no key touched for a denial
    const listing = JSON.parse((await request(pgw, "/train/?format=json", { certDir: trainer })).body.toString());
    expect(listing.entries.map((e: { name: string }) => e.name)).toEqual(["shard-0.jsonl", "sub/"]);
    expect((await request(pgw, "/train/", { certDir: evaluator })).status).toBe(403);
  });

  it("reports a bad policy with its line and column", () => {
    expect(() => parseGatewayPolicy("rules:\n  - identities: [x]\n    paths: [a]\n")).toThrow(/gateway.yaml:2:18: .*spiffe/);
    expect(() => parseGatewayPolicy(`rules:\n  - identities: ["spiffe://${TD}/prod/a"]\n    paths: ["a"]\n    stage: x\n`)).toThrow(
      /gateway.yaml:4:5: rules\[0\]\.stage: unknown key "stage" \(allowed: identities, paths, context, description\)/,
    );
    expect(() => parseGatewayPolicy(`rules:\n  - identities: ["spiffe://${TD}/prod/a"]\n    paths: ["../a"]\n`)).toThrow(/gateway.yaml:3:13: .*relative/);
  });
});

describe("refused peers and failures", () => {
  it("no certificate, and a certificate from another CA: refused in the handshake, audited", async () => {
    const before = audit().length;
    await expect(request(gw, "/train/shard-0.jsonl", { ca: w.caPem })).rejects.toThrow();
    const { makeCa, issueLeaf } = await import("../helpers/certs.js");
    const other = await makeCa("other CA");
    const leaf = await issueLeaf(other, { spiffe: `spiffe://${TD}/prod/trainer-a`, client: true, server: false });
    const dir = path.join(w.dir, "certs", "foreign");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "cert.pem"), leaf.certPem);
    writeFileSync(path.join(dir, "key.pem"), leaf.keyPem);
    writeFileSync(path.join(dir, "ca.pem"), w.caPem);
    await expect(request(gw, "/train/shard-0.jsonl", { certDir: dir })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    const rejects = audit()
      .slice(before)
      .filter((r) => r.operation === "gateway.reject");
    expect(rejects.map((r) => JSON.parse(r.context!).reason)).toEqual(expect.arrayContaining(["no-certificate", "unknown-ca"]));
    expect(
      audit()
        .slice(before)
        .some((r) => r.operation === "gateway-read"),
    ).toBe(false);
  });

  it("a tampered segment is never sent: the transfer is cut short, audited; a range over it is a 500", async () => {
    const big = randomBytes(3 * 1024 * 1024); // 768 segments of 4 KiB; the gateway sends 1 MiB steps
    const file = await w.seal("tamper/t.bin", big);
    const info = await inspectFile(file);
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.from([0x5a]), 0, 1, info.headerLength + 600 * info.encryptedSegmentSize + 100); // segment 600, in the third step
    closeSync(fd);
    const before = audit().length;
    const r = await request(gw, "/tamper/t.bin", { certDir: trainer });
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(big.length));
    expect(r.aborted).toBe(true);
    expect(r.body.length).toBeLessThanOrEqual(600 * 4096);
    expect(r.body.equals(big.subarray(0, r.body.length))).toBe(true); // only authenticated bytes
    expect(
      audit()
        .slice(before)
        .map((x) => [x.operation, x.outcome, x.errorCode]),
    ).toContainEqual(["gateway.serve", "error", "DECRYPT_FAILED"]);
    const ranged = await request(gw, "/tamper/t.bin", { certDir: trainer, headers: { range: `bytes=${600 * 4096}-${600 * 4096 + 10}` } });
    expect([ranged.status, ranged.headers["x-pipeseal-error"]]).toEqual([500, "DECRYPT_FAILED"]);
    expect(ranged.body.toString()).not.toContain(big.subarray(600 * 4096, 600 * 4096 + 10).toString("latin1"));
  });

  it("a shard under a destroyed key version: 410 KEY_DESTROYED, audited as the peer", async () => {
    w.ks.createKey("models/old");
    await w.seal("old/m.bin", randomBytes(1000), { keyName: "models/old" });
    w.ks.rotateKey("models/old");
    w.ks.destroyVersion("models/old", 1);
    const before = audit().length;
    const r = await request(gw, "/old/m.bin", { certDir: trainer });
    expect([r.status, r.headers["x-pipeseal-error"]]).toEqual([410, "KEY_DESTROYED"]);
    expect(
      audit()
        .slice(before)
        .map((x) => [x.operation, x.principal, x.outcome, x.errorCode]),
    ).toContainEqual(["gateway-read", `spiffe://${TD}/prod/trainer-a`, "denied", "KEY_DESTROYED"]);
  });

  it("ETag and cache keys follow the file: a replaced shard is a new object", async () => {
    const a = randomBytes(3000);
    await w.seal("swap/s.bin", a);
    const r1 = await request(gw, "/swap/s.bin", { certDir: trainer });
    const b = randomBytes(3000);
    await w.seal("swap/s.bin", b);
    const r2 = await request(gw, "/swap/s.bin", { certDir: trainer });
    expect(r1.body.equals(a) && r2.body.equals(b)).toBe(true);
    expect(r1.headers.etag).not.toBe(r2.headers.etag);
    expect(readFileSync(path.join(w.root, "swap/s.bin.pseal")).includes(b.subarray(0, 64))).toBe(false);
  });
});

describe("listening", () => {
  it("a port already in use is LISTEN_FAILED with the fix, not an internal error", async () => {
    const { startGateway } = await import("../../src/gateway/index.js");
    const port = Number(new URL(gw.url).port);
    await expect(
      startGateway({ root: w.root, keys: w.ks, tls: { certDir: w.certs("gateway"), watch: false }, allow: [`spiffe://${TD}/prod/trainer*`] }, { port }),
    ).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      message: expect.stringMatching(/already in use/),
    });
  });
});
