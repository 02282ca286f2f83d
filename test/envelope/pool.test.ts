// The worker pool runs compiled code on worker threads, so this test uses the built package.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DecryptError, WorkerPool, initKeystore, inlineEngine, openKeystore, openStream, sealStream } from "../../dist/index.js";
import { tempDir } from "../helpers/keystore.js";
import { chunked as chunks, collect } from "../helpers/streams.js";

const home = path.join(tempDir(), "ks");
await initKeystore(home);
const ks = await openKeystore(home);
ks.createKey("k");
const pool = new WorkerPool(2);
afterAll(async () => {
  await pool.close();
  ks.close();
});

describe("worker-pool engine agrees with the inline reference", () => {
  for (const size of [0, 1, 65536, 5 * 1024 * 1024 + 17]) {
    it(`${size} bytes: pool-sealed opens inline and inline-sealed opens on the pool`, async () => {
      const pt = randomBytes(size);
      const byPool = await collect(sealStream(ks, chunks(pt, 300_000), { keyName: "k", engine: pool }));
      const byInline = await collect(sealStream(ks, chunks(pt, 300_000), { keyName: "k", engine: inlineEngine }));
      expect(byPool.length).toBe(byInline.length);
      expect((await collect(openStream(ks, chunks(byPool, 777_777), { engine: inlineEngine }))).equals(pt)).toBe(true);
      expect((await collect(openStream(ks, chunks(byInline, 777_777), { engine: pool }))).equals(pt)).toBe(true);
    });
  }

  it("reports a tampered segment from a worker as the same opaque DecryptError", async () => {
    const pt = randomBytes(4 * 1024 * 1024);
    const sealed = await collect(sealStream(ks, chunks(pt, 1 << 20), { keyName: "k", engine: pool }));
    sealed[sealed.length - 3 * 1024 * 1024]! ^= 1;
    const out: Buffer[] = [];
    await expect(
      (async () => {
        for await (const p of openStream(ks, chunks(sealed, 1 << 20), { engine: pool })) out.push(p);
      })(),
    ).rejects.toBeInstanceOf(DecryptError);
    // batches before the bad one may have been released (streaming), never the bad one or after
    expect(Buffer.concat(out).length).toBeLessThan(pt.length - 2 * 1024 * 1024);
  });
});
