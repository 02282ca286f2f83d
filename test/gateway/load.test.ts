/** Concurrency limits of the gateway: a stalled reader is cut off and does not block others; connections are bounded. */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/gateway/index.js";
import { type World, gateway, makeWorld, request } from "./harness.js";

let w: World;
let gw: Gateway;
let trainer: string;
const big = randomBytes(16 * 1024 * 1024);
// larger than what loopback socket buffers can absorb (tcp_rmem max is often 32 MiB), so a reader that stops really stalls the server's writes
const huge = Buffer.concat([big, big, big, big, big]);

/** A TLS connection with the trainer's certificate that sends one request and then never reads. */
function stalledClient(urlPath: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: "127.0.0.1",
        port: gw.address.port,
        servername: "localhost",
        ca: readFileSync(path.join(trainer, "ca.pem")),
        cert: readFileSync(path.join(trainer, "cert.pem")),
        key: readFileSync(path.join(trainer, "key.pem")),
      },
      () => {
        s.write(`GET ${urlPath} HTTP/1.1\r\nhost: localhost\r\n\r\n`);
        s.pause(); // never read: the server's writes back up
        resolve(s);
      },
    );
    s.on("error", () => undefined);
    s.once("error", reject);
  });
}

/** A python client that sends one request, reads nothing for `sleep` seconds, then counts what arrives before the close. */
function stalledPython(urlPath: string, sleep: number): Promise<number> {
  const code = `
import socket, ssl, sys, time
d = sys.argv[1]
ctx = ssl.create_default_context(cafile=d + "/ca.pem"); ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost")
s.sendall(("GET " + sys.argv[3] + " HTTP/1.1\\r\\nhost: localhost\\r\\n\\r\\n").encode())
time.sleep(float(sys.argv[4]))
n = 0
try:
    while True:
        b = s.recv(1 << 20)
        if not b: break
        n += len(b)
except OSError:
    pass
print(n)
`;
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/python3", ["-c", code, trainer, String(gw.address.port), urlPath, String(sleep)], { timeout: 30_000 }, (e, out) =>
      e ? reject(e) : resolve(Number(out.trim())),
    );
  });
}

beforeAll(async () => {
  w = await makeWorld();
  trainer = await w.client("trainer-a");
  await w.seal("big.bin", big, { segmentSize: 64 * 1024 });
  await w.seal("huge.bin", huge, { segmentSize: 1024 * 1024 });
  await w.seal("small.bin", big.subarray(0, 1000));
  gw = await gateway(w, { idleTimeoutMs: 1500, maxConnections: 12 });
});
afterAll(() => gw?.close());

describe("load", () => {
  it("concurrent clients all get byte-identical ranges", async () => {
    const reads = Array.from({ length: 8 }, (_, i) => {
      const start = (i * 700_001) % (big.length - 70_000);
      return request(gw, "/big.bin", { certDir: trainer, headers: { range: `bytes=${start}-${start + 65535}` } }).then(
        (r) => r.status === 206 && r.body.equals(big.subarray(start, start + 65536)),
      );
    });
    expect(await Promise.all(reads)).toEqual(Array(8).fill(true));
  });

  it("a stalled client holds bounded memory, does not block others, and is cut off after the idle timeout", async () => {
    // python's ssl socket reads nothing until told: the server's writes really back up
    const stalled = [0, 1].map(() => stalledPython("/huge.bin", 4));
    await new Promise((r) => setTimeout(r, 800));
    const t0 = Date.now();
    const others = await Promise.all([0, 1, 2].map(() => request(gw, "/small.bin", { certDir: trainer })));
    expect(others.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Date.now() - t0).toBeLessThan(1000);
    for (const n of await Promise.all(stalled)) {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(huge.length); // cut off after the idle timeout, never the whole object
    }
    const r = await request(gw, "/big.bin", { certDir: trainer });
    expect(r.body.equals(big)).toBe(true);
  });

  it("connections beyond maxConnections are refused at accept", async () => {
    const sockets = await Promise.allSettled(Array.from({ length: 20 }, () => stalledClient("/small.bin")));
    await new Promise((r) => setTimeout(r, 200));
    const count = await new Promise<number>((resolve) => gw.mtls.server.getConnections((_e, n) => resolve(n)));
    expect(count).toBeLessThanOrEqual(12);
    expect(sockets.filter((s) => s.status === "fulfilled" && !s.value.destroyed).length).toBeLessThanOrEqual(12);
    for (const s of sockets) if (s.status === "fulfilled") s.value.destroy();
  });
});
