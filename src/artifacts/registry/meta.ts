/** meta.json of a registry version: what push recorded beside the signature (not signed; pull cross-checks it against the signed manifest). */
import { ArtifactError } from "../errors.js";
import type { RegistryStore, VersionRef } from "./store.js";

export const META_FILE = "meta.json";
export const SIGNATURE_FILE = "signature.json";

export interface VersionMeta {
  readonly format: "pipeseal-registry/v1";
  readonly name: string;
  readonly version: string;
  /** Keystore key the objects are sealed under, and the versions used. */
  readonly encryptionKey: string;
  readonly encryptionKeyVersions: readonly number[];
  readonly signer: { readonly keyName: string; readonly alg: string; readonly hint: string };
  readonly rootDigest: string;
  readonly pushedBy: string;
  readonly pushedAt: string;
  readonly files: readonly { readonly path: string; readonly object: string; readonly size: number }[];
}

/** @throws ArtifactError(INVALID_ARGUMENT) when the version does not exist or meta.json is malformed. */
export async function readMeta(store: RegistryStore, ref: VersionRef): Promise<VersionMeta> {
  const raw = await store.readSmall(ref, META_FILE);
  if (raw === null) throw new ArtifactError("ARTIFACT_NOT_FOUND", `${ref.name}@${ref.version} is not in the registry ${store.location}`);
  try {
    const m = JSON.parse(raw.toString("utf8")) as VersionMeta;
    if (m.format !== "pipeseal-registry/v1" || !Array.isArray(m.files)) throw new Error("format");
    return m;
  } catch {
    throw new ArtifactError("INVALID_ARGUMENT", `${ref.name}@${ref.version}: meta.json is malformed`);
  }
}

/** The signature text; null for an unsigned version. */
export async function readSignature(store: RegistryStore, ref: VersionRef): Promise<string | null> {
  const raw = await store.readSmall(ref, SIGNATURE_FILE);
  return raw === null ? null : raw.toString("utf8");
}

/** Runs `fn` over `items`, at most `limit` at a time; stops starting new ones after a failure. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const run = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
