/**
 * Real loaders against the gateway on 127.0.0.1: fsspec's HTTPFileSystem (with an aiohttp
 * mTLS connector), a PyTorch DataLoader with 2 worker processes reading records by range,
 * and curl (whole-shard streaming as webdataset's `pipe:curl` does, and `-r` ranges).
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectFile } from "../../src/envelope/inspect.js";
import type { Gateway } from "../../src/gateway/index.js";
import { type World, gateway, makeWorld } from "./harness.js";

const PY = fileURLToPath(new URL("./py/", import.meta.url));
const RECORD = 1000; // not a divisor of the 4 KiB segments: records straddle segment boundaries
const RECORDS = 300;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let w: World;
let gw: Gateway;
let trainer: string;
const shards: Buffer[] = [];

function records(shardNo: number): Buffer {
  const out = Buffer.alloc(RECORD * RECORDS);
  for (let i = 0; i < RECORDS; i++) {
    const r = out.subarray(i * RECORD, (i + 1) * RECORD);
    r.writeUInt32BE(shardNo, 0);
    r.writeUInt32BE(i, 4);
    randomBytes(RECORD - 40).copy(r, 8);
    createHash("sha256")
      .update(r.subarray(0, RECORD - 32))
      .digest()
      .copy(r, RECORD - 32);
  }
  return out;
}

function python(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/python3", [path.join(PY, script), ...args], { timeout: 120_000, maxBuffer: 1 << 20 }, (e, out, err) =>
      e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out),
    );
  });
}

/** curl in a child process, asynchronously: the gateway runs in this process and must keep serving. */
function run(cmd: string, args: string[]): Promise<{ status: number; stdout: Buffer }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "buffer", maxBuffer: 64 << 20, timeout: 60_000 }, (e, stdout) =>
      resolve({ status: e ? Number((e as { code?: unknown }).code ?? 1) : 0, stdout }),
    );
  });
}
const curl = (args: string[]) =>
  run("curl", ["-sS", "--cacert", path.join(trainer, "ca.pem"), "--cert", path.join(trainer, "cert.pem"), "--key", path.join(trainer, "key.pem"), ...args]);

beforeAll(async () => {
  w = await makeWorld();
  trainer = await w.client("trainer-a");
  for (let s = 0; s < 3; s++) {
    shards.push(records(s));
    await w.seal(`train/shard-${s}.bin`, shards[s]!);
  }
  gw = await gateway(w);
});
afterAll(() => gw?.close());

describe("fsspec HTTPFileSystem", () => {
  it("ls, info, open + seek + read across segment boundaries, byte-identical", async () => {
    const reads = ["0:100", "4090:20", "8191:70000", "123457:4096", `${RECORD * RECORDS - 10}:10`, "299990:100"];
    const out = JSON.parse(await python("fsspec_client.py", [gw.url, trainer, "/train/shard-1.bin", ...reads]));
    expect(out.ls).toEqual([0, 1, 2].map((s) => `${gw.url}/train/shard-${s}.bin`));
    expect(out.info).toEqual({ size: RECORD * RECORDS, type: "file" });
    const plain = shards[1]!;
    expect(out.reads).toEqual(
      reads.map((r) => {
        const [o, n] = r.split(":").map(Number) as [number, number];
        return sha(plain.subarray(o, o + n));
      }),
    );
    expect(out.whole).toBe(sha(plain));
    // one audited unwrap for all of it (same principal, same object, inside the window)
    expect(w.ks.listAudit({}).filter((r) => r.operation === "gateway-read" && r.objectPath?.endsWith("shard-1.bin.pseal"))).toHaveLength(1);
  }, 120_000);
});

describe("PyTorch", () => {
  it("a Dataset of fixed-size records from several sealed shards, through a DataLoader with 2 workers, every record checked", async () => {
    const args = [gw.url, trainer, String(RECORD), ...[0, 1, 2].map((s) => `/train/shard-${s}.bin:${RECORDS}`)];
    const out = JSON.parse(await python("torch_loader.py", args));
    expect(out.records).toBe(3 * RECORDS);
    expect(out.bad).toEqual([]);
    expect(out.workers).toHaveLength(2);
  }, 180_000);
});

describe("curl", () => {
  it("streams a whole shard (webdataset's pipe:curl) and reads -r ranges", async () => {
    const whole = await curl([`${gw.url}/train/shard-2.bin`]);
    expect(whole.status).toBe(0);
    expect(whole.stdout.equals(shards[2]!)).toBe(true);
    for (const [a, b] of [
      [1048, 9000],
      [0, 0],
      [299_000, 299_999],
    ]) {
      const r = await curl(["-r", `${a}-${b}`, `${gw.url}/train/shard-2.bin`]);
      expect(r.stdout.equals(shards[2]!.subarray(a!, b! + 1))).toBe(true);
    }
  });

  it("refuses curl without a certificate and below TLS 1.3", async () => {
    const none = await run("curl", ["-sS", "--cacert", path.join(trainer, "ca.pem"), `${gw.url}/train/shard-2.bin`]);
    expect(none.status).not.toBe(0);
    expect(none.stdout.length).toBe(0);
    const old = await curl(["--tls-max", "1.2", `${gw.url}/train/shard-2.bin`]);
    expect(old.status).not.toBe(0);
    expect(old.stdout.length).toBe(0);
  });

  it("a tampered shard: curl reports an error and never gets the full length", async () => {
    const plain = randomBytes(4 * 1024 * 1024);
    const file = await w.seal("train/tampered.bin", plain);
    const info = await inspectFile(file);
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.from([1]), 0, 1, info.headerLength + 700 * info.encryptedSegmentSize + 5);
    closeSync(fd);
    const r = await curl([`${gw.url}/train/tampered.bin`]);
    expect(r.status).toBe(18); // CURLE_PARTIAL_FILE: transfer closed with bytes remaining
    expect(r.stdout.length).toBeLessThan(plain.length);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
  });
});
