/**
 * Audit anchors on a schedule (`monitor run --anchor-every`): the signed checkpoint of the
 * local keystore's chain head that `pipeseal audit anchor` writes (src/audit/anchor.ts), into a
 * folder kept outside the keystore — the same files the key service writes on its schedule
 * (src/server/anchor-schedule.ts): `anchor-<seq>-<time>.json` (0644: anchors are public) and
 * `anchor-key.pem` once. The monitor writes one at start, then each period in which the chain
 * grew, and one at a clean stop. The first write failing fails the start; a later one is a
 * notice and is tried again next period.
 */
import { writeAnchorFile } from "../../audit/anchor-file.js";
import type { LocalKeystore } from "../../keys/keystore.js";

export interface AnchorWriter {
  /** Writes an anchor of the current head if it moved since the last one; returns the file written, or null. */
  write(): Promise<string | null>;
}

export function anchorWriter(ks: LocalKeystore, dir: string): AnchorWriter {
  let lastSeq = -1;
  return {
    async write() {
      const head = ks.auditHead();
      if (head === null || head.seq === lastSeq) return null; // the last anchor still says everything
      const file = await writeAnchorFile(dir, ks.auditAnchor(), lastSeq === -1 ? ks.auditAnchorPublicKey() : undefined);
      lastSeq = head.seq;
      return file;
    },
  };
}
