/** Creating a corpus: its options, a fresh root wrapped under the corpus key, its corpora row. Internal. */
import { UsageError } from "../../errors.js";
import type { SubjectKeyring } from "../subjects/index.js";
import { checkNamespace } from "../subjects/types.js";
import { newRoot } from "./crypto.js";
import type { CorpusDb, CorpusRow } from "./store.js";
import { type CorpusOptions, checkField } from "./types.js";

/** The encryption context the corpus root is wrapped under. */
export function wrapContext(name: string): Record<string, string> {
  return { purpose: "corpus", corpus: name };
}

function normalizeOptions(
  name: string,
  o: CorpusOptions,
): { vectors: "plain" | "encrypted"; filterFields: string[]; subjectNamespace: string; keyName: string } {
  const vectors = o.vectors ?? "plain";
  if (vectors !== "plain" && vectors !== "encrypted") throw new UsageError("INVALID_ARGUMENT", `vectors must be "plain" or "encrypted"`);
  const filterFields = [...new Set((o.filterFields ?? []).map(checkField))].sort();
  return { vectors, filterFields, subjectNamespace: checkNamespace(o.subjectNamespace ?? "default"), keyName: o.keyName ?? `corpus/${name}` };
}

/** @throws UsageError(INVALID_ARGUMENT) if the given options differ from the existing corpus's. */
export function checkSameOptions(row: CorpusRow, given: CorpusOptions): void {
  const o = normalizeOptions(row.name, given);
  const same =
    (given.vectors === undefined || o.vectors === row.vectors) &&
    (given.filterFields === undefined || JSON.stringify(o.filterFields) === row.filter_fields) &&
    (given.subjectNamespace === undefined || o.subjectNamespace === row.subject_namespace) &&
    (given.keyName === undefined || o.keyName === row.key_name);
  if (!same)
    throw new UsageError(
      "INVALID_ARGUMENT",
      `corpus "${row.name}" exists with other options (vectors ${row.vectors}, filter fields ${row.filter_fields}, subject namespace ${row.subject_namespace})`,
    );
}

/** Creates the key if needed, wraps a new root and records `corpus.create`; the caller wipes the returned root. */
export async function createCorpusRow(ks: SubjectKeyring, db: CorpusDb, name: string, given: CorpusOptions): Promise<{ row: CorpusRow; root: Buffer }> {
  const o = normalizeOptions(name, given);
  try {
    ks.createKey(o.keyName);
  } catch (e) {
    if ((e as { code?: string }).code !== "KEY_EXISTS") throw e;
  }
  const root = newRoot();
  try {
    const entry = await ks.wrap(o.keyName, root, wrapContext(name));
    const row: CorpusRow = {
      name,
      keyring: entry.keyring,
      key_name: entry.keyName,
      key_version: entry.keyVersion,
      wrapped_root: Buffer.from(entry.wrapped),
      vectors: o.vectors,
      dimensions: null,
      filter_fields: JSON.stringify(o.filterFields),
      subject_namespace: o.subjectNamespace,
      seal_count: 0,
      created_at: Date.now(),
    };
    const context = { corpus: name, vectors: o.vectors, filterFields: o.filterFields.join(",") };
    ks.auditedChange({ operation: "corpus.create", keyName: o.keyName, keyVersion: entry.keyVersion, objectPath: `corpus:${name}`, context }, () =>
      db
        .prepare(
          `INSERT INTO corpora (name, keyring, key_name, key_version, wrapped_root, vectors, dimensions, filter_fields, subject_namespace, seal_count, created_at)
           VALUES (@name, @keyring, @key_name, @key_version, @wrapped_root, @vectors, @dimensions, @filter_fields, @subject_namespace, @seal_count, @created_at)`,
        )
        .run(row),
    );
    return { row, root };
  } catch (e) {
    root.fill(0);
    throw e;
  }
}
