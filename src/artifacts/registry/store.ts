/**
 * The registry back end: a few methods, so a folder (here) and object storage (later: an
 * S3-compatible store, not built yet) can serve the same push/pull code.
 *
 * Contract:
 * - `begin` returns a staging area; nothing in it is visible to `list`/`read*` until `commit`,
 *   which publishes the whole version at once or throws (e.g. the version exists). A crash
 *   before `commit` returns publishes nothing.
 * - `readSmall` returns null when the version or file does not exist.
 * - `openObject` streams a stored object; it throws when missing.
 * - `appendLog`/`readLog`: a registry-side record of pulls (JSON lines, append only).
 */
import { ArtifactError } from "../errors.js";

export interface VersionRef {
  readonly name: string;
  readonly version: string;
}

export interface StagedVersion {
  /** Writes one file of the version (a small metadata file or a sealed object). */
  write(file: string, chunks: AsyncIterable<Uint8Array>): Promise<number>;
  /** Publishes atomically. @throws ArtifactError(INVALID_ARGUMENT) if the version already exists. */
  commit(): Promise<void>;
  /** Discards the staging area. */
  abort(): Promise<void>;
}

export interface RegistryStore {
  /** Human-readable location, for messages and audit records. */
  readonly location: string;
  listVersions(): Promise<VersionRef[]>;
  readSmall(ref: VersionRef, file: string): Promise<Buffer | null>;
  openObject(ref: VersionRef, file: string): AsyncIterable<Buffer>;
  begin(ref: VersionRef): Promise<StagedVersion>;
  /** Removes a published version atomically (it disappears at once, then is deleted). */
  deleteVersion(ref: VersionRef): Promise<void>;
  appendLog(record: Readonly<Record<string, unknown>>): Promise<void>;
  readLog(): Promise<Record<string, unknown>[]>;
}

/** Model names and versions: path-safe tokens (no slashes, no leading dot). */
export const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Parses `name@version`. @throws ArtifactError(INVALID_ARGUMENT) */
export function parseRef(text: string): VersionRef {
  const at = text.lastIndexOf("@");
  if (at < 0)
    throw new ArtifactError(
      "INVALID_ARGUMENT",
      `${JSON.stringify(text.slice(0, 80))} names no version: use name@version, e.g. ${text.slice(0, 80)}@3 (\`pipeseal registry list\` shows the versions)`,
    );
  const ref = { name: text.slice(0, at), version: text.slice(at + 1) };
  checkRef(ref);
  return ref;
}

export function checkRef(ref: VersionRef): VersionRef {
  if (!REF_PATTERN.test(ref.name) || !REF_PATTERN.test(ref.version)) {
    throw new ArtifactError(
      "INVALID_ARGUMENT",
      `bad model reference ${JSON.stringify(`${ref.name}@${ref.version}`.slice(0, 80))}: use name@version, each 1-128 of A-Z a-z 0-9 . _ + - not starting with a dot`,
    );
  }
  return ref;
}
