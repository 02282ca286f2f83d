/**
 * Runs segment batches on worker threads. FLOE segments are independent, so batches
 * encrypt or decrypt in parallel on every core while the main thread does the I/O;
 * results come back in order through `ordered`. Same functions, same bytes as the
 * inline engine (a test checks they agree).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FloeState } from "../crypto/floe.js";
import { DecryptError, PipesealError, type ErrorCode } from "../errors.js";
import type { Batch } from "../engine/types.js";
import { inlineEngine, type SegmentEngine } from "./engine.js";
import { segmentEngine } from "../engine/index.js";

export interface PoolRequest {
  id: number;
  mode: "encrypt" | "decrypt";
  state: FloeState;
  data: Uint8Array;
  first: number;
  count: number;
  final: boolean;
}

export type PoolResponse = { id: number; ok: true; data: Uint8Array } | { id: number; ok: false; code: ErrorCode | undefined; message: string };

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

export class WorkerPool implements SegmentEngine {
  readonly depth: number;
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(size: number) {
    const url = new URL("./pool-worker.js", import.meta.url);
    for (let i = 0; i < size; i++) {
      const w = new Worker(url);
      w.unref(); // an idle pool never keeps the process alive
      w.on("message", (res: PoolResponse) => this.settle(i, res));
      w.on("error", (e) => this.failAll(e));
      this.workers.push(w);
      this.busy.push(0);
    }
    this.depth = size * 4; // enough batches queued that no worker waits on the reader
  }

  encrypt(state: FloeState, batch: Batch): Promise<Buffer> {
    return this.submit("encrypt", state, batch);
  }

  decrypt(state: FloeState, batch: Batch): Promise<Buffer> {
    return this.submit("decrypt", state, batch);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private submit(mode: PoolRequest["mode"], state: FloeState, batch: Batch): Promise<Buffer> {
    const id = this.nextId++;
    const index = this.busy.indexOf(Math.min(...this.busy));
    // copy into a buffer of its own so it can be transferred without detaching the caller's memory
    const data = new Uint8Array(batch.data);
    const req: PoolRequest = {
      id,
      mode,
      state: { ...state, messageKey: Buffer.from(state.messageKey) },
      data,
      first: batch.first,
      count: batch.count,
      final: batch.final,
    };
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.busy[index]++;
      const w = this.workers[index];
      w.ref(); // work in flight keeps the process alive until it is answered
      w.postMessage(req, [data.buffer]);
    });
  }

  private settle(index: number, res: PoolResponse): void {
    const p = this.pending.get(res.id);
    this.pending.delete(res.id);
    if (--this.busy[index] === 0) this.workers[index].unref();
    if (!p) return;
    if (res.ok) p.resolve(Buffer.from(res.data.buffer, res.data.byteOffset, res.data.byteLength));
    else if (res.code === "DECRYPT_FAILED") p.reject(new DecryptError());
    else if (res.code) p.reject(new PipesealError(res.code, res.message));
    else p.reject(new Error(res.message));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

let shared: WorkerPool | undefined;

/**
 * The engine for streams: the native engine when the addon loads (it already runs on every
 * core through the thread pool); else inline unless PIPESEAL_THREADS asks for N > 1 workers
 * (at most the core count). Inline is the reference default because on the 2-core machines
 * we measure on the pool does not pay: node:crypto's AES-GCM, not I/O, bounds each thread,
 * and the pool's copies and messages cost what the second core gains (README, Performance).
 */
export function defaultEngine(): SegmentEngine {
  if (segmentEngine().name === "native") return segmentEngine();
  const wanted = Math.min(Number(process.env.PIPESEAL_THREADS ?? 1), availableParallelism(), 8);
  if (!Number.isInteger(wanted) || wanted <= 1) return inlineEngine;
  shared ??= new WorkerPool(wanted);
  return shared;
}
