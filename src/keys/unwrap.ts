/**
 * `unwrap` and `rewrap`. Fail closed: the audit record of a successful unwrap is committed
 * before the data key is returned; if it cannot be written, the key is wiped and
 * AuditError(AUDIT_WRITE_FAILED) is thrown. Refused and failed unwraps are recorded too
 * (best effort: if that record fails, the original error is still thrown).
 */
import type { AuditEvent } from "../audit/types.js";
import { UsageError } from "../errors.js";
import { dataEvent, failure } from "./data-event.js";
import type { AuditObject, EncryptionContext, WrappedKey } from "./keyring.js";
import { dataOperation } from "./names.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { requireKey, requireVersion } from "./rows.js";
import type { StoreContext } from "./store-context.js";
import { wrapDataKey } from "./wrap.js";
import { rewrapTarget, withTag } from "./bound-wrap.js";
import { checkEntry, openWithKek } from "./open-entry.js";
import type { EntryTarget } from "./key-block.js";
import { kekForDecrypt } from "./version-rules.js";

export const UNWRAP_OPERATIONS = '"unwrap", "decrypt" or "range-read"';

const checkOperation = (object: AuditObject, allowRewrap = false): string => dataOperation(object, UNWRAP_OPERATIONS, allowRewrap);

const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The second record of an operation whose data key was released (an "ok" unwrap record), or
 * of a rewrap whose new entry was made (an "ok" rewrap record), and which then failed: same operation, key version, object, header hash and context, outcome
 * "error" with `errorCode`. Written before the caller rethrows; fails closed like any record
 * (the caller treats it as best effort: its operation is failing already).
 * @throws UsageError(INVALID_ARGUMENT) for a bad operation or code; AuditError(AUDIT_WRITE_FAILED)
 */
export function recordFailedUse(ctx: StoreContext, entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): void {
  const operation = checkFailedUse(object, errorCode);
  recordOrFail(ctx, { ...dataEvent(ctx.principal, operation, entry, context, object), outcome: "error", errorCode });
}

/**
 * The operation a failed-use record may name (a data-access one, or a rewrap whose new entry
 * never reached the file), with its stable error code checked; every store applies this rule.
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function checkFailedUse(object: AuditObject, errorCode: string): string {
  const operation = checkOperation(object, true);
  if (typeof errorCode !== "string" || !ERROR_CODE.test(errorCode))
    throw new UsageError("INVALID_ARGUMENT", "errorCode must be a stable error code such as DECRYPT_FAILED");
  return operation;
}

/**
 * Unwraps a data key; the caller owns and must wipe the result. With `open`, returns
 * `open(dataKey)` instead, records that operation's outcome, and wipes the key.
 */
export function unwrapDataKey(
  ctx: StoreContext,
  entry: WrappedKey,
  context: EncryptionContext,
  object: AuditObject,
  open?: (dataKey: Buffer) => Buffer,
): Buffer {
  const operation = checkOperation(object);
  const event = dataEvent(ctx.principal, operation, entry, context, object);
  const dataKey = openOrRecord(ctx, entry, context, event);
  try {
    const result = open === undefined ? dataKey : useOrRecord(ctx, dataKey, open, event);
    try {
      recordOrFail(ctx, { ...event, outcome: "ok" });
    } catch (e) {
      result.fill(0);
      throw e;
    }
    return result;
  } finally {
    if (open !== undefined) dataKey.fill(0);
  }
}

function useOrRecord(ctx: StoreContext, dataKey: Buffer, open: (dataKey: Buffer) => Buffer, event: AuditEvent): Buffer {
  try {
    return open(dataKey);
  } catch (e) {
    recordBestEffort(ctx, failure(event, e));
    throw e;
  }
}

/**
 * Re-encrypts a wrapped data key under the key's primary version without releasing it.
 * Audited as "rewrap" (key version = the source version); the new entry is returned only
 * once the record is committed. A v2 entry's key block is checked first and the new entry
 * comes back with its tag; with `upgrade`, a v1 entry becomes a v2 entry for that place.
 */
export function rewrapDataKey(ctx: StoreContext, entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): WrappedKey {
  const event = dataEvent(ctx.principal, "rewrap", entry, context, object, upgrade);
  let target: EntryTarget | undefined;
  try {
    target = rewrapTarget(entry, upgrade);
  } catch (e) {
    recordBestEffort(ctx, failure(event, e));
    throw e;
  }
  const dataKey = openOrRecord(ctx, entry, context, event);
  try {
    let rewrapped: WrappedKey;
    try {
      rewrapped = withTag(wrapDataKey(ctx, entry.keyName, dataKey, context, target?.objectId), dataKey, target);
    } catch (e) {
      recordBestEffort(ctx, failure(event, e));
      throw e;
    }
    recordOrFail(ctx, { ...event, outcome: "ok" });
    return rewrapped;
  } finally {
    dataKey.fill(0);
  }
}

function openOrRecord(ctx: StoreContext, entry: WrappedKey, context: EncryptionContext, event: AuditEvent): Buffer {
  try {
    return openEntry(ctx, entry, context);
  } catch (e) {
    recordBestEffort(ctx, failure(event, e));
    throw e;
  }
}

/** Checks the entry against the key's state and opens it. No audit here. */
function openEntry(ctx: StoreContext, entry: WrappedKey, context: EncryptionContext): Buffer {
  const { name, version } = checkEntry(ctx.keyringId, entry, context);
  const key = requireKey(ctx, name);
  return openWithKek(ctx.master, ctx.keyringId, name, version, kekForDecrypt(name, key, requireVersion(ctx, key, version)), context, entry);
}
