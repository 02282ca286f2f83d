/** Worker-thread side of the segment pool: runs the same batch functions as the main thread. */
import { parentPort } from "node:worker_threads";
import type { FloeState } from "../crypto/floe.js";
import { PipesealError } from "../errors.js";
import { decryptBatch, encryptBatch } from "../engine/reference.js";
import type { PoolRequest, PoolResponse } from "./pool.js";

parentPort!.on("message", (req: PoolRequest) => {
  const state: FloeState = { ...req.state, messageKey: Buffer.from(req.state.messageKey) };
  const batch = { data: Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength), first: req.first, count: req.count, final: req.final };
  let res: PoolResponse;
  try {
    const out = req.mode === "encrypt" ? encryptBatch(state, batch) : decryptBatch(state, batch);
    const data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    res = { id: req.id, ok: true, data };
    parentPort!.postMessage(res, out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? [out.buffer as ArrayBuffer] : []);
  } catch (e) {
    res = { id: req.id, ok: false, code: e instanceof PipesealError ? e.code : undefined, message: e instanceof Error ? e.message : String(e) };
    parentPort!.postMessage(res);
  } finally {
    state.messageKey.fill(0);
    req.state.messageKey.fill(0);
  }
});
