/**
 * Unwrap on PostgreSQL as a group-commit job (pg-batch.ts): opens the entry with the batch's
 * reads and returns the data key together with its `ok` record; a refused entry (wrong
 * context, forged, bad key state) returns its `denied`/`error` record instead. The rows'
 * state MACs are checked on every use, snapshot hits included (checkUnwrappable). The key
 * reaches the caller only after the batch committed (fail closed).
 */
import { isRefusal } from "../../audit/group-commit.js";
import type { AuditEvent } from "../../audit/types.js";
import type { EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { failure } from "../../keys/data-event.js";
import { checkEntry, openWithKek } from "../../keys/open-entry.js";
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
      const { name, version } = checkEntry(keyringId, entry, context); // bad input is refused before any key state is read
      const { key, row } = await tx.keyVersion(name, version);
      const dataKey = openWithKek(root, keyringId, name, version, checkUnwrappable(seal, name, key, row), context, entry);
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
