/**
 * Unwrap on PostgreSQL as a group-commit job (pg-batch.ts): opens the entry with the batch's
 * reads and returns the data key together with its `ok` record; a refused entry (wrong
 * context, forged, bad key state) returns its `denied`/`error` record instead. The rows'
 * state MACs are checked on every use, snapshot hits included (checkUnwrappable). The key
 * reaches the caller only after the batch committed (fail closed).
 */
import { isRefusal } from "../../audit/group-commit.js";
import type { AuditEvent } from "../../audit/types.js";
import { KeyError, UsageError } from "../../errors.js";
import type { EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { validateKeyName, validateVersion } from "../../keys/names.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { bindingOf, openWrapped } from "../../keys/bound-wrap.js";
import { failure } from "../../keys/data-event.js";
import { encodeContext } from "../../keys/context.js";
import type { PgJob } from "./pg-batch.js";
import type { OpenWithKey } from "./types.js";
import { checkUnwrappable } from "./pg-keys.js";

/** With `open`, the job's result is `open(dataKey)` and its record that operation's outcome (KeyStore.unwrap). */
export function unwrapJob(
  root: RootKey,
  seal: StateSeal,
  keyringId: string,
  event: AuditEvent,
  entry: WrappedKey,
  context: EncryptionContext,
  open?: OpenWithKey,
): PgJob {
  return async (tx) => {
    try {
      if (entry === null || typeof entry !== "object") throw new UsageError("INVALID_ARGUMENT", "a wrapped key entry is required");
      if (entry.keyring !== keyringId)
        throw new KeyError("KEYRING_MISMATCH", `the entry was wrapped by keyring "${String(entry.keyring).slice(0, 40)}", not "${keyringId}"`);
      const name = validateKeyName(entry.keyName);
      const version = validateVersion(entry.keyVersion);
      if (!(entry.wrapped instanceof Uint8Array)) throw new UsageError("INVALID_ARGUMENT", "entry.wrapped must be a Uint8Array");
      encodeContext(context); // bad input is refused before any key state is read
      bindingOf(entry);
      const { key, row } = await tx.keyVersion(name, version);
      const kek = root.openKek(name, version, checkUnwrappable(seal, name, key, row));
      let dataKey: Buffer;
      try {
        dataKey = openWrapped(kek, keyringId, name, version, context, entry);
      } finally {
        kek.fill(0);
      }
      if (open === undefined) return { events: [event], result: { ok: true, value: dataKey } };
      try {
        return { events: [event], result: { ok: true, value: open(dataKey) } };
      } finally {
        dataKey.fill(0);
      }
    } catch (e) {
      if (!isRefusal(e)) throw e;
      return { events: [failure(event, e)], result: { ok: false, error: e } };
    }
  };
}

/** A job that only appends `event`; its caller gets the record. */
export function recordJob(event: AuditEvent): PgJob {
  return async () => ({ events: [event], result: "record" });
}
