/**
 * `honeytoken plant`: seals a decoy of fake rows under a real key, placed and named like real
 * data, and records it in the registry. The rows are generated straight into the sealer (no
 * plaintext file is written) and the file is an ordinary sealed file, sealed the way
 * `pipeseal encrypt` seals (same segment size, the context the caller gives), so nothing in it
 * says "decoy": only the registry in keystore.db knows its header hash.
 *
 * @example await plantDecoy(ks, { key: "prod/datasets/customers", out: "s3-mirror/customers/part-0007.csv.pseal", rows: 5000 });
 */
import { randomBytes } from "node:crypto";
import { mkdir, unlink } from "node:fs/promises";
import path from "node:path";
import { inspectFile } from "../../envelope/inspect.js";
import { sealStream } from "../../envelope/seal.js";
import { UsageError } from "../../errors.js";
import type { EncryptionContext, Keyring } from "../../keys/keyring.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { writeAtomic } from "../../io/atomic.js";
import { fakeRows } from "./fake-rows.js";
import { recordDecoy, type DecoyRecord } from "./registry.js";

export const MAX_DECOY_ROWS = 10_000_000;

export interface PlantOptions {
  readonly key: string;
  readonly out: string;
  readonly rows: number;
  /** Default: from the name (`.jsonl` → jsonl), else csv. */
  readonly format?: "csv" | "jsonl";
  readonly context?: EncryptionContext;
}

/**
 * `sealer` seals the decoy (default the keystore; a key service's RemoteKeyring when the real
 * data's key lives there); the record of it stays in `ks`, where the monitor looks.
 * @throws UsageError(INVALID_ARGUMENT) for a bad row count or format; KeyError for an unknown or
 *   disabled key; AuditError(AUDIT_WRITE_FAILED) if the plant cannot be recorded (the file is then removed).
 */
export async function plantDecoy(ks: LocalKeystore, o: PlantOptions, sealer: Keyring = ks): Promise<DecoyRecord> {
  if (!Number.isSafeInteger(o.rows) || o.rows < 1 || o.rows > MAX_DECOY_ROWS)
    throw new UsageError("INVALID_ARGUMENT", `--rows must be a whole number in 1..${MAX_DECOY_ROWS}`);
  const format = o.format ?? (/\.jsonl?(\.pseal)?$/i.test(o.out) ? "jsonl" : "csv");
  if (format !== "csv" && format !== "jsonl") throw new UsageError("INVALID_ARGUMENT", "--format is csv or jsonl");
  const out = path.resolve(o.out);
  await mkdir(path.dirname(out), { recursive: true });
  await writeAtomic(out, sealStream(sealer, fakeRows(o.rows, format), { keyName: o.key, ...(o.context ? { context: o.context } : {}) }), 0o644);
  try {
    const { headerHash } = await inspectFile(out);
    return recordDecoy(ks, { id: "ht_" + randomBytes(8).toString("hex"), key: o.key, headerHash, path: out, format, rows: o.rows });
  } catch (e) {
    await unlink(out).catch(() => undefined); // an unrecorded decoy would be a file nobody watches
    throw e;
  }
}
