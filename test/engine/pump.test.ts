/**
 * The overlapped pump with a synthetic step: order kept whatever order batches finish in,
 * finality found by the read after a batch (exact batch boundaries, empty input), nothing
 * yielded after a failed batch, memory bounded by recycling, and every buffer wiped at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSource, type ByteSource } from "../../src/engine/io.js";
import { pump, type PumpStep } from "../../src/engine/pump.js";
import { prng } from "../helpers/prng.js";

/** A whole-buffer source over `data` (fills each buffer unless the data runs out). */
function source(data: Buffer): ByteSource {
  let off = 0;
  return {
    read: async (buf) => {
      const n = Math.min(buf.length, data.length - off);
      data.copy(buf, 0, off, off + n);
      off += n;
      return n;
    },
  };
}

/** Copies the input into `out` after a random delay; records what it saw. */
function step(inBytes: number, seen: { index: number; final: boolean; length: number }[], fail?: number, outs?: Set<ArrayBufferLike>): PumpStep {
  const rnd = prng(5);
  return {
    inBytes,
    outBytes: inBytes,
    async run(input, index, final, out) {
      seen.push({ index, final, length: input.length });
      outs?.add(out.buffer);
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 4)));
      if (index === fail) throw new Error(`batch ${index} failed`);
      input.copy(out);
      return out.subarray(0, input.length);
    },
  };
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(Buffer.from(b)); // copy: a yielded buffer is valid until the next one
  return Buffer.concat(parts);
}

describe("pump", () => {
  for (const size of [0, 1, 100, 1000, 1001, 5000, 9999]) {
    it(`${size} bytes in 1000-byte batches: same bytes, in order, exactly the last batch final`, async () => {
      const data = randomBytes(size);
      const seen: { index: number; final: boolean; length: number }[] = [];
      expect((await collect(pump(source(data), step(1000, seen), 3))).equals(data)).toBe(true);
      expect(seen.map((s) => s.index)).toEqual(seen.map((_, i) => i));
      expect(seen.filter((s) => s.final).length).toBe(1);
      expect(seen.at(-1)!.final).toBe(true);
      expect(seen.length).toBe(Math.max(1, Math.ceil(size / 1000)));
    });
  }

  it("a prefix (bytes read past a header) starts the first batch", async () => {
    const data = randomBytes(2500);
    const out = await collect(pump(source(data.subarray(300)), step(1000, []), 2, data.subarray(0, 300)));
    expect(out.equals(data)).toBe(true);
  });

  it("nothing after a failed batch is yielded, and the failure is what the consumer sees", async () => {
    const data = randomBytes(10_000);
    const got: Buffer[] = [];
    await expect(
      (async () => {
        for await (const b of pump(source(data), step(1000, [], 4), 3)) got.push(Buffer.from(b));
      })(),
    ).rejects.toThrow("batch 4 failed");
    expect(got.length).toBe(4);
    expect(Buffer.concat(got).equals(data.subarray(0, 4000))).toBe(true);
  });

  it("recycles: a 200-batch input uses at most depth + 1 output buffers, all wiped at the end", async () => {
    const data = randomBytes(200 * 1000);
    const outs = new Set<ArrayBufferLike>();
    let last: Buffer | undefined;
    for await (const b of pump(source(data), step(1000, [], undefined, outs), 3)) last = b;
    expect(outs.size).toBeLessThanOrEqual(4);
    expect(last!.equals(Buffer.alloc(last!.length))).toBe(true); // the plaintext left in it was wiped
  });

  it("a consumer that stops early stops the reads", async () => {
    let reads = 0;
    const src: ByteSource = {
      read: async (buf) => {
        reads++;
        buf.fill(1);
        return buf.length; // endless input
      },
    };
    for await (const b of pump(src, step(1000, []), 2)) {
      expect(b.length).toBe(1000);
      break;
    }
    expect(reads).toBeLessThan(10);
  });
});

/** A regular file's source over `data`: sequential reads and reads at any offset; `size` as fstat said at open. */
function fileLike(data: () => Buffer, size: number, reads?: number[], afterRead?: (at: number) => void): ByteSource {
  let offset = 0;
  const readAt = async (buf: Buffer, at: number) => {
    reads?.push(at);
    await new Promise((r) => setTimeout(r, 0));
    const d = data();
    const n = Math.max(0, Math.min(buf.length, d.length - at));
    d.copy(buf, 0, at, at + n);
    afterRead?.(at);
    return n;
  };
  return {
    read: async (buf) => {
      const n = await readAt(buf, offset);
      offset += n;
      return n;
    },
    positional: { readAt, offset: () => offset, size },
  };
}

describe("pump over a regular file (positional reads)", () => {
  for (const size of [0, 1, 999, 1000, 1001, 3000, 9999]) {
    it(`${size} bytes: same bytes and batches as the sequential reader, exactly the last batch final`, async () => {
      const data = randomBytes(size);
      const seen: { index: number; final: boolean; length: number }[] = [];
      const seqSeen: { index: number; final: boolean; length: number }[] = [];
      expect(
        (
          await collect(
            pump(
              fileLike(() => data, size),
              step(1000, seen),
              3,
            ),
          )
        ).equals(data),
      ).toBe(true);
      await collect(pump(source(data), step(1000, seqSeen), 3));
      expect(seen.sort((a, b) => a.index - b.index)).toEqual(seqSeen);
    });
  }

  it("reads several batches at once (more than one read in flight)", async () => {
    const data = randomBytes(8000);
    const reads: number[] = [];
    let inFlight = 0;
    let most = 0;
    const src = fileLike(() => data, data.length, reads);
    const inner = src.positional!;
    const counted: ByteSource = {
      read: src.read,
      positional: {
        ...inner,
        offset: inner.offset,
        readAt: async (buf, at) => {
          most = Math.max(most, ++inFlight);
          try {
            return await inner.readAt(buf, at);
          } finally {
            inFlight--;
          }
        },
      },
    };
    expect((await collect(pump(counted, step(1000, []), 4))).equals(data)).toBe(true);
    expect(most).toBeGreaterThan(1);
  });

  it("a file that grew after it was opened is read to its end, as a pipe would be", async () => {
    const data = randomBytes(5500);
    expect(
      (
        await collect(
          pump(
            fileLike(() => data, 1200),
            step(1000, []),
            3,
          ),
        )
      ).equals(data),
    ).toBe(true);
  });

  it("a header read first: the body starts where the sequential read stopped, with its leftover as prefix", async () => {
    const data = randomBytes(4321);
    const src = fileLike(() => data, data.length);
    const head = Buffer.alloc(700);
    await src.read(head); // the header reader read 700 bytes, of which the last 200 are body
    const out = await collect(pump(src, step(1000, []), 3, head.subarray(500)));
    expect(out.equals(data.subarray(500))).toBe(true);
  });

  it("a file that got shorter while read, exactly at a batch boundary: IO_ERROR, not a silently short output", async () => {
    let data = randomBytes(10_000);
    // batch 2 is read whole (with the byte after it, so not final), then the file is cut at its end
    const src = fileLike(
      () => data,
      data.length,
      undefined,
      (at) => {
        if (at === 2000) data = data.subarray(0, 3000);
      },
    );
    const got: Buffer[] = [];
    const run = (async () => {
      for await (const b of pump(src, step(1000, []), 2)) got.push(Buffer.from(b));
    })();
    await expect(run).rejects.toMatchObject({ code: "IO_ERROR" });
    expect(got.length).toBeLessThanOrEqual(3);
  });

  it("a file that got shorter mid-batch ends there: the batch that finds the end is final", async () => {
    let data = randomBytes(10_000);
    const whole = data;
    const src = fileLike(
      () => data,
      data.length,
      undefined,
      (at) => {
        if (at === 0) data = data.subarray(0, 2500);
      },
    );
    const seen: { index: number; final: boolean; length: number }[] = [];
    const out = await collect(pump(src, step(1000, seen), 1));
    expect(out.equals(whole.subarray(0, 2500))).toBe(true);
    expect(seen.filter((x) => x.final).map((x) => x.index)).toEqual([2]);
  });
});

describe("the final wipe", () => {
  /** What a batch wrote: a whole buffer and how far into it (fresh buffers beyond that are uninitialised memory, not ours). */
  interface Written {
    readonly buf: Buffer;
    readonly extent: number;
  }
  /** A step that remembers every buffer it was handed and how much of it held data; batch `fail` writes all of `out` and then fails. */
  function recording(inBytes: number, written: Written[], opts: { fail?: number; ownResult?: boolean } = {}): PumpStep {
    return {
      inBytes,
      outBytes: 2 * inBytes, // room past every result, so a wipe of the result alone would show
      async run(input, index, final, out) {
        const whole = Buffer.from(input.buffer);
        written.push({ buf: whole, extent: Math.min(whole.length, input.byteOffset + input.length + 1) }); // + the positional reader's look-ahead byte
        await new Promise((r) => setTimeout(r, 1));
        if (index === opts.fail) {
          out.fill(7); // plaintext of a batch that then failed, past any result length
          written.push({ buf: out, extent: out.length });
          throw new Error("failed");
        }
        if (opts.ownResult) {
          out.fill(9); // written into, but the result is a buffer of its own
          written.push({ buf: out, extent: out.length });
          return Buffer.from(input);
        }
        input.copy(out);
        written.push({ buf: out, extent: input.length });
        return out.subarray(0, input.length);
      },
    };
  }
  const dirty = (all: Written[]) => all.filter(({ buf, extent }) => buf.subarray(0, extent).some((x) => x !== 0)).length;

  for (const [name, src] of [
    ["sequential", (d: Buffer) => source(d)],
    ["positional", (d: Buffer) => fileLike(() => d, d.length)],
  ] as const) {
    it(`${name}: every byte a read or a batch wrote is zero afterwards, on success, after a failed batch, and with results of their own`, async () => {
      // depth 1 recycles every buffer, so the failing batch writes into one an earlier batch used less of
      for (const depth of [1, 3]) {
        for (const opts of [{}, { fail: 3 }, { ownResult: true }]) {
          const written: Written[] = [];
          const data = Buffer.alloc(5500, 0xaa);
          await collect(pump(src(data), recording(1000, written, opts), depth, Buffer.alloc(10, 0xbb))).catch(() => undefined);
          expect(written.length).toBeGreaterThan(0);
          expect({ depth, opts, dirty: dirty(written) }).toEqual({ depth, opts, dirty: 0 });
        }
      }
    });
  }
});

describe("fileSource over a real file", () => {
  it("a header read sequentially, then the body through positional reads: the file's bytes exactly, in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pump-file-"));
    try {
      for (const size of [0, 700, 4000, 4001, 12_345]) {
        const data = randomBytes(size);
        const file = join(dir, `f${size}`);
        writeFileSync(file, data);
        const handle = await open(file, "r");
        try {
          const src = fileSource(handle.fd, size);
          expect(src.positional).toBeDefined();
          const head = Buffer.alloc(Math.min(300, size));
          expect(await src.read(head)).toBe(head.length);
          const prefix = head.subarray(Math.min(100, head.length)); // read past the "header"
          const out = await collect(pump(src, step(1000, []), 3, prefix));
          expect(out.equals(data.subarray(Math.min(100, size)))).toBe(true);
        } finally {
          await handle.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
