/**
 * SHA-256 of file ranges on worker threads: one task per file or shard, as many workers as
 * cores, so a model with several files (or one file in shards) hashes on every core while
 * nothing larger than a 4 MiB read buffer per worker sits in memory.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ArtifactError } from "../errors.js";
import { HASH_WORKER_SOURCE } from "./hash-worker.js";

export interface HashTask {
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

interface Reply {
  id: number;
  ok: boolean;
  digest?: string;
  message?: string;
  code?: string;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { task: HashTask; id: number }[] = [];
  private readonly pending = new Map<number, { resolve(d: string): void; reject(e: Error): void }>();
  private nextId = 0;

  /** @param size workers; default: the core count (at most 8). */
  constructor(size = Math.min(availableParallelism(), 8)) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = new Worker(HASH_WORKER_SOURCE, { eval: true });
      w.unref();
      w.on("message", (r: Reply) => this.settle(w, r));
      w.on("error", (e) => this.failAll(e));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Hex SHA-256 of bytes [start, end) of `path`. */
  hash(task: HashTask): Promise<string> {
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ task, id });
      this.pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { task, id } = this.queue.shift()!;
      w.ref();
      w.postMessage({ id, path: task.path, start: task.start, end: task.end });
    }
  }

  private settle(w: Worker, r: Reply): void {
    w.unref();
    this.idle.push(w);
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    if (p) {
      if (r.ok) p.resolve(r.digest!);
      else p.reject(new ArtifactError(r.code === "ESHRANK" ? "ARTIFACT_MISMATCH" : "INVALID_ARGUMENT", `hashing failed: ${r.message}`));
    }
    this.pump();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** The reference: the same range hashed on the calling thread (tests check the pool agrees). */
export async function hashRange(task: HashTask): Promise<string> {
  const h = createHash("sha256");
  const handle = await open(task.path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = task.start; pos < task.end;) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, task.end - pos), pos);
      if (bytesRead === 0) throw new ArtifactError("ARTIFACT_MISMATCH", `hashing failed: file shrank while hashing: ${task.path}`);
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return h.digest("hex");
}
