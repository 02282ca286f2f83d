/**
 * --key-ttl binds a response that outlives it: a client that reads slowly past the TTL does
 * not keep the object's keys in memory. The keys are dropped at expiry while the response
 * waits on the stalled socket; when the client reads on, the response continues under a
 * fresh audited unwrap, or, if that is refused, the transfer is cut (never unauthenticated
 * bytes). The clock is injected; the stall is real (a paused client over loopback mTLS).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync } from "node:fs";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/gateway/index.js";
import { TD, type World, gateway, makeWorld } from "./harness.js";

let w: World;
let gw: Gateway;
let trainer: string;
let clock = 5_000_000;
const TTL = 1000;
// far more than loopback socket buffers hold (tcp_wmem max 4 MiB here), so a paused client really stalls the server
const plain = randomBytes(16 * 1024 * 1024);
const TRAINER = `spiffe://${TD}/prod/trainer-a`;

/** A GET whose body is not read until `resume()`; resolves once the headers are in. */
function pausedGet(urlPath: string): Promise<{ res: IncomingMessage; resume: () => Promise<{ body: Buffer; complete: boolean }> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1",
      port: gw.address.port,
      path: urlPath,
      servername: "localhost",
      ca: readFileSync(path.join(trainer, "ca.pem")),
      cert: readFileSync(path.join(trainer, "cert.pem")),
      key: readFileSync(path.join(trainer, "key.pem")),
      agent: false,
    });
    req.on("response", (res) => {
      res.pause();
      const resume = () =>
        new Promise<{ body: Buffer; complete: boolean }>((done) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", () => undefined);
          res.on("close", () => done({ body: Buffer.concat(chunks), complete: res.complete }));
          res.resume();
        });
      resolve({ res, resume });
    });
    req.on("error", reject);
    req.end();
  });
}

const records = (file: string, operation: string) => w.ks.listAudit({}).filter((r) => r.operation === operation && r.objectPath === path.join(w.root, file));
const settle = () => new Promise((r) => setTimeout(r, 400)); // the server fills the socket buffers and waits for 'drain'

beforeAll(async () => {
  w = await makeWorld();
  trainer = await w.client("trainer-a");
  w.ks.createKey("datasets/ttl");
  await w.seal("slow.bin", plain, { segmentSize: 1024 * 1024 });
  await w.seal("cut.bin", plain, { segmentSize: 1024 * 1024, keyName: "datasets/ttl" });
  await w.seal("swap.bin", plain, { segmentSize: 1024 * 1024 });
  gw = await gateway(w, { now: () => clock, keyTtlMs: TTL });
}, 60_000);
afterAll(() => gw?.close());

describe("--key-ttl during a slow read", () => {
  it("drops the keys at expiry mid-response, then continues under a fresh audited unwrap; the windows' summaries add up", async () => {
    const { res, resume } = await pausedGet("/slow.bin");
    expect(res.statusCode).toBe(200);
    await settle();
    expect(gw.openObjects).toBe(1);
    clock += TTL + 1;
    gw.sweep();
    expect(gw.openObjects).toBe(0); // keys wiped while the response still waits on the stalled client
    const first = records("slow.bin.pseal", "gateway.serve");
    expect(first.map((r) => r.principal)).toEqual([TRAINER]);
    const firstBytes = Number(JSON.parse(first[0]!.context!).bytes);
    expect(firstBytes).toBeGreaterThan(0);
    expect(firstBytes).toBeLessThan(plain.length); // the window closed mid-response
    const { body, complete } = await resume();
    expect([complete, body.length, body.equals(plain)]).toEqual([true, plain.length, true]);
    // the rest was decrypted under a second window: its own unwrap, naming the peer
    expect(records("slow.bin.pseal", "gateway-read").map((r) => [r.principal, r.outcome])).toEqual([
      [TRAINER, "ok"],
      [TRAINER, "ok"],
    ]);
    clock += TTL + 1;
    gw.sweep();
    const summaries = records("slow.bin.pseal", "gateway.serve").map((r) => JSON.parse(r.context!) as Record<string, string>);
    expect(summaries.map((c) => c.requests)).toEqual(["1", "1"]);
    expect(summaries.reduce((n, c) => n + Number(c.bytes), 0)).toBe(plain.length); // every byte counted once, in the window that decrypted it
  }, 30_000);

  it("cuts the transfer when the renewal is refused (the key version was disabled meanwhile): the client never gets the full length", async () => {
    const { res, resume } = await pausedGet("/cut.bin");
    expect(res.statusCode).toBe(200);
    await settle();
    w.ks.rotateKey("datasets/ttl");
    w.ks.disableVersion("datasets/ttl", 1);
    clock += TTL + 1;
    gw.sweep();
    expect(gw.openObjects).toBe(0);
    const { body, complete } = await resume();
    expect(complete).toBe(false);
    expect(body.length).toBeLessThan(plain.length);
    expect(body.equals(plain.subarray(0, body.length))).toBe(true); // what arrived is authenticated plaintext, nothing else
    expect(records("cut.bin.pseal", "gateway-read").map((r) => [r.outcome, r.errorCode])).toEqual([
      ["ok", null],
      ["denied", "KEY_DISABLED"],
    ]);
    expect(records("cut.bin.pseal", "gateway.serve").map((r) => [r.outcome, r.errorCode])).toEqual([
      ["ok", null],
      ["error", "KEY_DISABLED"],
    ]);
  }, 30_000);

  it("cuts the transfer when the file was replaced meanwhile: no bytes of another object are spliced in, and nothing is unwrapped for it", async () => {
    const { res, resume } = await pausedGet("/swap.bin");
    expect(res.statusCode).toBe(200);
    await settle();
    const other = await w.seal("other.bin", randomBytes(plain.length), { segmentSize: 1024 * 1024 });
    renameSync(other, path.join(w.root, "swap.bin.pseal"));
    clock += TTL + 1;
    gw.sweep();
    const { body, complete } = await resume();
    expect([complete, body.length < plain.length, body.equals(plain.subarray(0, body.length))]).toEqual([false, true, true]);
    expect(records("swap.bin.pseal", "gateway-read")).toHaveLength(1);
    expect(records("swap.bin.pseal", "gateway.serve").map((r) => [r.outcome, r.errorCode])).toEqual([
      ["ok", null],
      ["error", "GATEWAY_OBJECT_CHANGED"],
    ]);
  }, 30_000);
});
