/**
 * Worker threads for the direct pull path: each worker decrypts, hashes and writes one
 * object at a time (`decryptObjectToFd`), so a version's files are processed in parallel on
 * every core with no bytes crossing threads (file descriptors are shared; only the FLOE state
 * and the digest are posted). Used only from the built package: under the TypeScript sources
 * (tests) the compiled worker does not exist and `pullModel` streams on the main thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { wipeState, type FloeState } from "../../crypto/floe.js";
import { DecryptError, PipesealError, type ErrorCode } from "../../errors.js";
import type { ObjectResult } from "./object-file.js";
import type { PullReply, PullTask } from "./pull-worker.js";

const WORKER_URL = new URL("./pull-worker.js", import.meta.url);

export class PullWorkers {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve(r: ObjectResult): void; reject(e: Error): void; progress?: (bytes: number) => void }>();
  private nextId = 0;

  /** Whether the compiled worker exists (false when running from the TypeScript sources). */
  static available(): boolean {
    return WORKER_URL.protocol === "file:" && existsSync(fileURLToPath(WORKER_URL));
  }

  constructor(size: number) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_URL);
      w.on("message", (r: PullReply) => this.settle(r));
      w.on("error", (e) => this.failAll(e));
      w.on("exit", (code) => this.failAll(new Error(`pull worker exited (${code})`)));
      this.workers.push(w);
    }
  }

  /**
   * Runs one object on worker `lane` (each lane runs one task at a time). The state's key is
   * copied to the worker and wiped here at once; the worker wipes its copy when done.
   */
  run(lane: number, state: FloeState, src: number, headerLength: number, out: number, progress?: (bytes: number) => void): Promise<ObjectResult> {
    const id = this.nextId++;
    const task: PullTask = { id, state, src, headerLength, out };
    return new Promise<ObjectResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, ...(progress ? { progress } : {}) });
      try {
        this.workers[lane % this.size].postMessage(task);
      } catch (e) {
        this.waiting.delete(id);
        reject(e); // postMessage throws a DOMException (DataCloneError), an Error
      } finally {
        wipeState(state); // the worker has its own copy (structured clone)
      }
    });
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    for (const w of ws) w.removeAllListeners("exit");
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private settle(r: PullReply): void {
    if ("progress" in r) {
      this.waiting.get(r.id)?.progress?.(r.progress);
      return;
    }
    const p = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    if (!p) return;
    if (r.ok) p.resolve({ bytes: r.bytes, digest: r.digest });
    else if (r.code === "DECRYPT_FAILED") p.reject(new DecryptError());
    else if (r.code) p.reject(new PipesealError(r.code as ErrorCode, r.message));
    else p.reject(new Error(r.message));
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }
}
