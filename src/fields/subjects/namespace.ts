/**
 * Opening a subject namespace: its root secret is wrapped by the keystore key
 * `subjects/<ns>` (created on first use), so opening a namespace is one audited unwrap
 * (operation `subject-keys`, object `subjects:<ns>`) per handle. Internal.
 */
import { isPipesealError } from "../../errors.js";
import type { EncryptionContext } from "../../keys/keyring.js";
import { namespaceKeys, newRoot } from "./derive.js";
import { type NamespaceRow, statements } from "./rows.js";
import { type SubjectKeyring, namespaceKeyName } from "./types.js";

export interface OpenNamespace {
  readonly ns: string;
  readonly keyName: string;
  readonly indexKey: Buffer;
  readonly wrapKey: Buffer;
  /** The erasure counter seen when the cache was last checked. */
  gen: number;
  checkedAt: number;
}

function wrapContext(ns: string): EncryptionContext {
  return { purpose: "subject-namespace", namespace: ns };
}

/**
 * Opens `ns`, creating it (key, root, audited `subject.namespace-init`) when `create` and it
 * does not exist yet. Returns null for a missing namespace when not creating.
 */
export async function openNamespace(ks: SubjectKeyring, ns: string, create: boolean, now: () => number): Promise<OpenNamespace | null> {
  const keyName = namespaceKeyName(ns);
  let row = ks.readTables((db) => statements(db).namespace.get(ns));
  let root: Buffer;
  if (row === undefined) {
    if (!create) return null;
    ({ row, root } = await createNamespace(ks, ns, keyName, now));
  } else {
    root = await unwrapRoot(ks, row);
  }
  try {
    const { indexKey, wrapKey } = namespaceKeys(root, ns);
    return { ns, keyName, indexKey, wrapKey, gen: row.erase_gen, checkedAt: now() };
  } finally {
    root.fill(0);
  }
}

async function createNamespace(ks: SubjectKeyring, ns: string, keyName: string, now: () => number): Promise<{ row: NamespaceRow; root: Buffer }> {
  try {
    ks.createKey(keyName);
  } catch (e) {
    if (!(isPipesealError(e) && e.code === "KEY_EXISTS")) throw e; // made by another process, or by hand
  }
  const root = newRoot();
  try {
    const entry = await ks.wrap(keyName, root, wrapContext(ns));
    const existing = ks.auditedChange({ operation: "subject.namespace-init", keyName, keyVersion: entry.keyVersion, context: { namespace: ns } }, (db) => {
      const st = statements(db);
      const found = st.namespace.get(ns);
      if (found !== undefined) return found; // another process won the race: use its root
      st.insertNamespace.run(ns, entry.keyring, entry.keyName, entry.keyVersion, Buffer.from(entry.wrapped), now());
      return undefined;
    });
    if (existing !== undefined) {
      root.fill(0);
      return { row: existing, root: await unwrapRoot(ks, existing) };
    }
    const row = ks.readTables((db) => statements(db).namespace.get(ns)) as NamespaceRow;
    return { row, root };
  } catch (e) {
    root.fill(0);
    throw e;
  }
}

function unwrapRoot(ks: SubjectKeyring, row: NamespaceRow): Promise<Buffer> {
  return ks.unwrap({ keyring: row.keyring, keyName: row.key_name, keyVersion: row.key_version, wrapped: row.wrapped_root }, wrapContext(row.namespace), {
    operation: "subject-keys",
    path: `subjects:${row.namespace}`,
  });
}

export function wipeNamespace(state: OpenNamespace): void {
  state.indexKey.fill(0);
  state.wrapKey.fill(0);
}
