import { startDecryption, wipeState, type FloeState } from "../crypto/floe.js";
import { KeyError, PipesealError, isPipesealError } from "../errors.js";
import { type AuditObject, type Keyring, type WrappedKey, mismatchMessage, servesEntry } from "../keys/keyring.js";
import type { SealedHeader } from "./header.js";

/**
 * A sealed object's stable id for audit records: SHA-256 of the FLOE AAD and FLOE header
 * (docs/format.md §9). It survives rewrap and rewrap --upgrade (the key block and the
 * version byte are left out) and names one exact body. In v2 every wrap binds it, so an
 * `ok` unwrap record's header hash is proven by the unwrap itself.
 */
export function headerHash(header: SealedHeader): string {
  return header.objectId.toString("hex");
}

/** A started decryption and a way to record that the operation it serves then failed. */
export interface Unlocked {
  readonly state: FloeState;
  /**
   * Records, best effort, that the operation the data key was released for failed after all
   * (authentication, truncation, a range outside the plaintext): the second audit record of
   * docs/keyservice.md "What an outcome means". Never throws; call it once per failure, then
   * rethrow the failure.
   */
  failed(error: unknown): Promise<void>;
}

/** The stable code recorded for a failure after the release (an I/O error is IO_ERROR). */
export function failureCode(error: unknown): string {
  if (isPipesealError(error)) return error.code;
  return typeof (error as NodeJS.ErrnoException)?.code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string" ? "IO_ERROR" : "INTERNAL";
}

/** Best effort: the keyring records the failure if it can (Keyring.reportFailure is optional). */
async function report(keyring: Keyring, entry: WrappedKey, header: SealedHeader, object: AuditObject, error: unknown): Promise<void> {
  try {
    await keyring.reportFailure?.(entry, header.context, object, failureCode(error));
  } catch {
    // the operation is failing already; its own error is what the caller sees
  }
}

/**
 * Unwraps the data key through the keyring (which audits the release first) and starts FLOE
 * decryption. Tries each wrapped key the keyring can serve, in header order. The data key is
 * wiped as soon as the FLOE state is derived from it. A released key that does not open the
 * file (a key block moved from another file: key commitment fails) is recorded as failed.
 * @throws KeyError (KEYRING_MISMATCH, KEY_*), AuditError, DecryptError.
 */
export async function unlockForUse(keyring: Keyring, header: SealedHeader, object: Omit<AuditObject, "headerHash">): Promise<Unlocked> {
  const candidates = header.wrappedKeys.filter((k) => servesEntry(keyring, k.keyring));
  if (candidates.length === 0)
    throw new KeyError(
      "KEYRING_MISMATCH",
      mismatchMessage(
        keyring,
        header.wrappedKeys.map((k) => k.keyring),
      ),
    );
  const audited: AuditObject = { ...object, headerHash: headerHash(header) };
  let lastError: unknown;
  for (const entry of candidates) {
    let dataKey: Buffer | undefined;
    try {
      dataKey = await keyring.unwrap(entry, header.context, audited);
    } catch (e) {
      // a key block that does not authenticate fails the same way through every entry: stop
      if (!(e instanceof PipesealError) || e.code === "AUDIT_WRITE_FAILED" || e.code === "KEY_BLOCK_INVALID") throw e;
      lastError = e; // refused or failed before release: the keyring recorded it
      continue;
    }
    try {
      const state = startDecryption(dataKey, header.floeAad, { encSegLen: header.encSegLen }, header.floeHeader);
      return { state, failed: (error) => report(keyring, entry, header, audited, error) };
    } catch (e) {
      await report(keyring, entry, header, audited, e);
      if (!(e instanceof PipesealError)) throw e;
      lastError = e;
    } finally {
      dataKey.fill(0);
    }
  }
  throw lastError;
}

/** {@link unlockForUse} without the failure report (callers that cannot fail after it). */
export async function unlock(keyring: Keyring, header: SealedHeader, object: Omit<AuditObject, "headerHash">): Promise<FloeState> {
  return (await unlockForUse(keyring, header, object)).state;
}

export { wipeState };
