/**
 * Opening and rewrapping a wrapped data key as its file's format says (docs/format.md §5–6):
 * a v1 entry (no binding) with the v1 wrap AAD; a v2 entry with the v2 AAD (its file's
 * object id) and then the whole key block checked, all before any key is released. Every
 * keyring backend (the local keystore, the key service's SQLite and PostgreSQL stores, a
 * keystore whose root key is in an HSM) calls these, so all bind the same things.
 */
import { UsageError } from "../errors.js";
import { type EntryBinding, type EntryTarget, checkBindingShape, entryDigest, tagOne, verifyKeyBlock } from "./key-block.js";
import type { EncryptionContext, WrappedKey } from "./keyring.js";
import { openDataKey, wrapAad } from "./wrap-format.js";

/** The entry's binding after its shape checks, or undefined for a v1 entry. @throws UsageError(INVALID_ARGUMENT) */
export function bindingOf(entry: WrappedKey): EntryBinding | undefined {
  return entry.binding === undefined ? undefined : checkBindingShape(entry.binding);
}

/**
 * Opens `entry` under `kek` (keyring `keyringId`, key `name` v`version`): the caller wipes
 * the result. A v2 entry's key block is verified before it returns; on failure the data key
 * is wiped first.
 * @throws DecryptError (wrong key, context, file or forged entry), PipesealError(KEY_BLOCK_INVALID)
 */
export function openWrapped(kek: Buffer, keyringId: string, name: string, version: number, context: EncryptionContext, entry: WrappedKey): Buffer {
  const binding = bindingOf(entry);
  const dataKey = openDataKey(kek, wrapAad(keyringId, name, version, context, binding?.objectId), entry.wrapped);
  if (binding !== undefined) {
    try {
      verifyKeyBlock(dataKey, entry, binding);
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
  }
  return dataKey;
}

/** Where a rewrap's new entry goes: a v2 entry's own place, an upgrade's target, or nowhere (a v1 entry stays v1). */
export function rewrapTarget(entry: WrappedKey, upgrade?: EntryTarget): EntryTarget | undefined {
  const binding = bindingOf(entry);
  if (binding !== undefined) {
    if (upgrade !== undefined) throw new UsageError("INVALID_ARGUMENT", "the entry is already a v2 entry; rewrap it without upgrade");
    return {
      objectId: binding.objectId,
      index: binding.index,
      count: binding.digests.length,
      ...(binding.keyringLabel ? { keyringLabel: binding.keyringLabel } : {}),
    };
  }
  if (upgrade === undefined) return undefined;
  const ok =
    upgrade.objectId instanceof Uint8Array &&
    upgrade.objectId.length === 32 &&
    Number.isInteger(upgrade.count) &&
    upgrade.count >= 1 &&
    upgrade.count <= 255 &&
    Number.isInteger(upgrade.index) &&
    upgrade.index >= 0 &&
    upgrade.index < upgrade.count;
  if (!ok) throw new UsageError("INVALID_ARGUMENT", "an upgrade target needs a 32-byte object id and an index below its entry count");
  return upgrade;
}

/** The new entry with its key-block tag at `target` (none for a v1 rewrap). */
export function withTag(entry: WrappedKey, dataKey: Uint8Array, target: EntryTarget | undefined): WrappedKey {
  if (target === undefined) return entry;
  const digest = entryDigest(target.keyringLabel ?? entry.keyring, entry.keyName, entry.keyVersion, entry.wrapped);
  return { keyring: entry.keyring, keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: entry.wrapped, tag: tagOne(dataKey, target, digest) };
}

/** The audited header hash of an entry: its binding's object id (the unwrap proves it), else what the caller said. */
export function boundHeaderHash(entry: WrappedKey, claimed: unknown): string | null {
  const id = entry?.binding?.objectId;
  if (id instanceof Uint8Array && id.length === 32) return Buffer.from(id).toString("hex");
  return typeof claimed === "string" && /^[0-9a-f]{64}$/i.test(claimed) ? claimed.toLowerCase() : null;
}
