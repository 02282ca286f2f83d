import { createHash } from "node:crypto";
import { startDecryption, wipeState, type FloeState } from "../crypto/floe.js";
import { KeyError, PipesealError } from "../errors.js";
import type { AuditObject, Keyring } from "../keys/keyring.js";
import type { SealedHeader } from "./header.js";

/**
 * A sealed object's stable id for audit records: SHA-256 of the fixed part and FLOE
 * header. It survives rewrap (the key block is left out) and names one exact file.
 */
export function headerHash(header: SealedHeader): string {
  return createHash("sha256").update(header.fixedPart).update(header.floeHeader).digest("hex");
}

/**
 * Unwraps the data key through the keyring (which audits it first) and starts FLOE
 * decryption. Tries each wrapped key the keyring can serve, in header order. The data
 * key is wiped as soon as the FLOE state is derived from it.
 * @throws KeyError (KEYRING_MISMATCH, KEY_*), AuditError, DecryptError.
 */
export async function unlock(keyring: Keyring, header: SealedHeader, object: Omit<AuditObject, "headerHash">): Promise<FloeState> {
  const candidates = header.wrappedKeys.filter((k) => k.keyring === keyring.id);
  if (candidates.length === 0) {
    const named = [...new Set(header.wrappedKeys.map((k) => k.keyring))].join(", ");
    throw new KeyError("KEYRING_MISMATCH", `the file's data key is wrapped by keyring(s) ${named}, not "${keyring.id}"`);
  }
  let lastError: unknown;
  for (const entry of candidates) {
    let dataKey: Buffer | undefined;
    try {
      dataKey = await keyring.unwrap(entry, header.context, { ...object, headerHash: headerHash(header) });
      return startDecryption(dataKey, header.fixedPart, { encSegLen: header.encSegLen }, header.floeHeader);
    } catch (e) {
      if (!(e instanceof PipesealError) || e.code === "AUDIT_WRITE_FAILED") throw e;
      lastError = e;
    } finally {
      dataKey?.fill(0);
    }
  }
  throw lastError;
}

export { wipeState };
