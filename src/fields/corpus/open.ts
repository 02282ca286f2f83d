/** Opening a corpus (creating it when asked): one audited unwrap of its data key. */
import { UsageError } from "../../errors.js";
import type { SubjectKeyring } from "../subjects/index.js";
import { Corpus } from "./corpus.js";
import { checkSameOptions, createCorpusRow, wrapContext } from "./create.js";
import { corpusKeys } from "./crypto.js";
import { type CorpusRow, closeCorpusDb, openCorpusDb } from "./store.js";
import { type CorpusOptions, checkName } from "./types.js";

export interface OpenCorpusOptions {
  /** Path of corpus.db (the CLI uses `<keystore home>/corpus.db`). */
  readonly file: string;
  readonly name: string;
  /** Create the corpus with these options if it does not exist (given options must match an existing one). */
  readonly create?: CorpusOptions;
  /** Most candidate chunks one retrieval examines (after filters); more is refused. Default 100,000. */
  readonly maxScan?: number;
}

/**
 * Opens a corpus (creating it with `create`); one audited unwrap of its data key.
 * @throws UsageError(INVALID_ARGUMENT) for bad names or options, or a missing corpus without `create`;
 *   KeyError, KeystoreError, AuditError, DecryptError (the wrapped key does not open under this corpus name).
 */
export async function openCorpus(ks: SubjectKeyring, options: OpenCorpusOptions): Promise<Corpus> {
  const name = checkName(options.name);
  const maxScan = options.maxScan ?? 100_000;
  if (!Number.isSafeInteger(maxScan) || maxScan < 1) throw new UsageError("INVALID_ARGUMENT", "maxScan must be a positive integer");
  const db = openCorpusDb(options.file, options.create !== undefined);
  try {
    let row = db.prepare<[string], CorpusRow>("SELECT * FROM corpora WHERE name = ?").get(name);
    let root: Buffer;
    if (row === undefined) {
      if (options.create === undefined) throw new UsageError("INVALID_ARGUMENT", `no corpus named "${name}" in ${options.file}`);
      ({ row, root } = await createCorpusRow(ks, db, name, options.create));
    } else {
      if (options.create !== undefined) checkSameOptions(row, options.create);
      root = await ks.unwrap({ keyring: row.keyring, keyName: row.key_name, keyVersion: row.key_version, wrapped: row.wrapped_root }, wrapContext(name), {
        operation: "corpus-open",
        path: `corpus:${name}`,
      });
    }
    try {
      return new Corpus(ks, db, row, corpusKeys(root, name), maxScan);
    } finally {
      root.fill(0);
    }
  } catch (e) {
    closeCorpusDb(db);
    throw e;
  }
}
