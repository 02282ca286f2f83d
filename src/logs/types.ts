/** Shared shapes of the encrypted log sink (docs/logs.md). */
import type { KeyInfo } from "../keys/key-info.js";
import type { Keyring } from "../keys/keyring.js";

/** Retention classes: raw inference payloads are kept for less time than metadata. */
export type LogClass = "payload" | "metadata";
export const LOG_CLASSES: readonly LogClass[] = ["payload", "metadata"];

export const DAY_MS = 86_400_000;
/** Default retention per class, in ms. */
export const DEFAULT_RETENTION_MS: Readonly<Record<LogClass, number>> = { payload: 7 * DAY_MS, metadata: 90 * DAY_MS };
/** Default key-version bucket: one log key version per class per UTC day. */
export const DEFAULT_BUCKET_MS = DAY_MS;
/** Default segment size bound (plaintext bytes). */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * What the sink and prune need beyond the Keyring: the key administration the local
 * keystore offers (LocalKeystore satisfies it). The sink rotates the class key when a new
 * bucket starts; prune destroys versions. A remote keyring would expose the same calls.
 */
export interface LogKeyAdmin {
  showKey(name: string): KeyInfo;
  rotateKey(name: string): KeyInfo;
  createKey(name: string): KeyInfo;
}
export interface LogPruneAdmin {
  showKey(name: string): KeyInfo;
  rotateKey(name: string): KeyInfo;
  destroyVersion(name: string, version: number): unknown;
}
export type LogKeyring = Keyring & LogKeyAdmin;

/** The key of one retention class: `<keyName>/<class>`, so payload can be shredded before metadata. */
export const classKeyName = (keyName: string, cls: LogClass): string => `${keyName}/${cls}`;

export function isLogClass(v: unknown): v is LogClass {
  return v === "payload" || v === "metadata";
}
