/**
 * The CLI's byte plumbing for encrypt and decrypt: an input (a file or stdin) as a
 * whole-buffer source, and stdout as a sink, so stdin and stdout move data as fast as file
 * paths (large reads, no re-chunking copies, writes with back-pressure). With the native
 * addon, fds are read and written by it on the thread pool (a pipe, a non-blocking fd and
 * a file alike); without it, files use fs reads and stdin/stdout go through Node's streams.
 */
import { open } from "node:fs/promises";
import { fdSink, fdSource, fileSource, nativeIo, streamSource, type ByteSink, type ByteSource } from "../engine/io.js";
import { engineNotice } from "../engine/index.js";
import { progressMeter } from "./progress.js";

export interface OpenedInput {
  readonly source: ByteSource;
  readonly close: () => Promise<void>;
}

/** Opens `input` ("-" for stdin) as a source, with a progress bar on a terminal. */
export async function openInput(input: string, label: string, total: number | undefined): Promise<OpenedInput> {
  const note = engineNotice();
  if (note && process.stderr.isTTY) process.stderr.write(note + "\n"); // said once; scripts and logs are not cluttered
  let source: ByteSource;
  let close = async (): Promise<void> => undefined;
  if (input === "-") source = nativeIo() ? fdSource(0) : streamSource(process.stdin);
  else {
    const handle = await open(input, "r");
    const info = await handle.stat();
    // a regular file is read at several offsets at once (src/engine/pump.ts); a FIFO or device in order
    source = info.isFile() ? fileSource(handle.fd, info.size) : fdSource(handle.fd);
    close = () => handle.close();
  }
  const meter = progressMeter(label, total);
  if (!meter) return { source, close };
  const counted =
    <A extends unknown[]>(read: (...a: A) => Promise<number>) =>
    async (...a: A) => {
      const n = await read(...a);
      meter.add(n);
      return n;
    };
  const { positional } = source;
  return {
    source: {
      read: counted((buf: Buffer) => source.read(buf)),
      ...(positional
        ? { positional: { readAt: counted((buf: Buffer, at: number) => positional.readAt(buf, at)), offset: () => positional.offset(), size: positional.size } }
        : {}),
    },
    close: async () => {
      meter.end();
      await close();
    },
  };
}

/**
 * Writes chunks to stdout, each one completely written before the next is asked for (the pump
 * recycles a chunk's buffer as soon as the next is asked for); returns bytes written.
 */
export async function writeStdout(chunks: AsyncIterable<Buffer>): Promise<number> {
  // Node's stdout may still hold a chunk queued after write() returned true: wait for its callback
  const sink: ByteSink = nativeIo()
    ? fdSink(1)
    : { write: (buf) => new Promise<void>((resolve, reject) => process.stdout.write(buf, (e) => (e ? reject(e) : resolve()))) };
  let written = 0;
  for await (const chunk of chunks) {
    await sink.write(chunk);
    written += chunk.length;
  }
  return written;
}
