/** Worker-thread side of the direct pull path: one `decryptObjectToFd` task at a time (object-file.ts). */
import { parentPort } from "node:worker_threads";
import type { FloeState } from "../../crypto/floe.js";
import { PipesealError } from "../../errors.js";
import { decryptObjectToFd } from "./object-file.js";

export interface PullTask {
  readonly id: number;
  readonly state: FloeState;
  readonly src: number;
  readonly headerLength: number;
  readonly out: number;
}

export type PullReply =
  | { id: number; ok: true; bytes: number; digest: string }
  | { id: number; ok: false; code: string | undefined; message: string }
  | { id: number; progress: number };

/** Plaintext bytes between progress messages (each lets the main thread start an fdatasync). */
const PROGRESS_BYTES = 64 * 1024 * 1024;

parentPort!.on("message", (t: PullTask) => {
  let reply: PullReply;
  try {
    const state: FloeState = { ...t.state, messageKey: Buffer.from(t.state.messageKey.buffer, t.state.messageKey.byteOffset, t.state.messageKey.byteLength) };
    let told = 0;
    const onWritten = (bytes: number) => {
      if (bytes - told < PROGRESS_BYTES) return;
      told = bytes;
      parentPort!.postMessage({ id: t.id, progress: bytes } satisfies PullReply);
    };
    reply = { id: t.id, ok: true, ...decryptObjectToFd(state, t.src, t.headerLength, t.out, onWritten) }; // wipes the key
  } catch (e) {
    reply = { id: t.id, ok: false, code: e instanceof PipesealError ? e.code : undefined, message: e instanceof Error ? e.message : String(e) };
  } finally {
    t.state.messageKey.fill(0);
  }
  parentPort!.postMessage(reply);
});
