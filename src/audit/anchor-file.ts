/**
 * Anchor files, as every scheduled writer lays them out (the key service's audit.anchorEvery,
 * `monitor run --anchor-every`): `anchor-<seq>-<time>.json` (0644: anchors are public) and the
 * anchor public key as `anchor-key.pem`, in a folder kept outside the keystore.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { once, writeAtomic } from "../io/atomic.js";
import type { AnchorEnvelope } from "./anchor.js";

/** The seq and time an anchor's (signed) payload names. */
export function anchoredHead(anchor: AnchorEnvelope): { seq: number; time: string } {
  return JSON.parse(Buffer.from(anchor.payload, "base64").toString("utf8")) as { seq: number; time: string };
}

/** Writes `anchor` into `dir` (made if missing), and `publicKey` as anchor-key.pem when given; returns the anchor's file. */
export async function writeAnchorFile(dir: string, anchor: AnchorEnvelope, publicKey?: string): Promise<string> {
  const { seq, time } = anchoredHead(anchor);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (publicKey !== undefined) await writeAtomic(path.join(dir, "anchor-key.pem"), once(publicKey), 0o644);
  const file = path.join(dir, `anchor-${String(seq).padStart(12, "0")}-${time.replace(/[:.]/g, "")}.json`);
  await writeAtomic(file, once(`${JSON.stringify(anchor)}\n`), 0o644);
  return file;
}
