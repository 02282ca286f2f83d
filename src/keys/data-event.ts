/**
 * The audit record of a data-access operation (unwrap, decrypt, range-read, rewrap) and of
 * its refusal or failure, written the same way by every store (the local keystore's unwrap.ts
 * and PostgreSQL's pg-unwrap.ts): only fields the caller cannot forge into a bad row.
 */
import type { AuditEvent } from "../audit/types.js";
import { auditOutcomeOf, isPipesealError } from "../errors.js";
import { boundHeaderHash } from "./bound-wrap.js";
import { normalizeContext } from "./context.js";
import type { EntryTarget } from "./key-block.js";
import type { AuditObject, EncryptionContext, WrappedKey } from "./keyring.js";
import { auditableName, auditableVersion } from "./names.js";

/** The `ok` record of `operation` on `entry` by `principal`; a context that does not normalize is recorded as null. */
export function dataEvent(
  principal: string,
  operation: string,
  entry: WrappedKey,
  context: EncryptionContext,
  object: AuditObject,
  upgrade?: EntryTarget,
): AuditEvent {
  return {
    operation,
    principal,
    outcome: "ok",
    keyName: auditableName(entry?.keyName),
    keyVersion: auditableVersion(entry?.keyVersion),
    objectPath: typeof object?.path === "string" ? object.path : null,
    headerHash:
      upgrade?.objectId instanceof Uint8Array && upgrade.objectId.length === 32
        ? Buffer.from(upgrade.objectId).toString("hex")
        : boundHeaderHash(entry, object?.headerHash),
    context: safeContext(context),
  };
}

/** The record of a refused or failed operation: `denied` for key state and bad input, else `error`. */
export function failure(event: AuditEvent, e: unknown): AuditEvent {
  const code = isPipesealError(e) ? e.code : "INTERNAL";
  return { ...event, outcome: auditOutcomeOf(e), errorCode: code };
}

function safeContext(context: EncryptionContext): Readonly<Record<string, string>> | null {
  try {
    return normalizeContext(context);
  } catch {
    return null;
  }
}
