/**
 * Audit anchors on a schedule (`monitor run --anchor-every`): the signed checkpoint of the chain
 * head that `pipeseal audit anchor` writes (src/audit/anchor.ts), into a folder kept outside
 * the keystore, one file per head (`audit-anchor-<seq>.json`, 0644: anchors are public). A head
 * that has not moved since the last anchor is not anchored again.
 */
import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { LocalKeystore } from "../../keys/keystore.js";
import { once, writeAtomic } from "../../io/atomic.js";

export interface AnchorWriter {
  /** Writes an anchor of the current head if it moved; returns the file written, or null. */
  write(): Promise<string | null>;
}

export function anchorWriter(ks: LocalKeystore, dir: string): AnchorWriter {
  let lastSeq = -1;
  return {
    async write() {
      const head = ks.auditHead();
      if (head === null || head.seq === lastSeq) return null;
      const envelope = ks.auditAnchor();
      const { seq } = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as { seq: number };
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const file = path.join(dir, `audit-anchor-${String(seq).padStart(12, "0")}.json`);
      await writeAtomic(file, once(`${JSON.stringify(envelope)}\n`), 0o644);
      lastSeq = seq;
      return file;
    },
  };
}
