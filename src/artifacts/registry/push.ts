/**
 * `pushModel`: one pass over each file hashes it and seals it into the staging area (so what
 * is signed is exactly what was sealed; a file that changes meanwhile fails the push), then
 * the manifest is signed and the version published atomically.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { sealStream } from "../../envelope/seal.js";
import { once } from "../../io/atomic.js";
import type { EncryptionContext, Keyring, WrappedKey } from "../../keys/keyring.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { ArtifactError } from "../errors.js";
import { DEFAULT_IGNORE, compareResourceNames, rootDigest, toStatement, type ModelManifest, type Resource } from "../manifest.js";
import { listModelFiles, normalizeIgnore } from "../serialize/walk.js";
import type { Signer } from "../signing-keys.js";
import { META_FILE, SIGNATURE_FILE, mapLimit, type VersionMeta } from "./meta.js";
import { checkRef, type RegistryStore, type VersionRef } from "./store.js";

export interface PushOptions {
  /** Keystore key the files are sealed under (e.g. models/prod). */
  readonly keyName: string;
  readonly signer: Signer;
  readonly ignore?: readonly string[];
  /** Files sealed at once (default 2). */
  readonly concurrency?: number;
}

export interface PushResult {
  readonly ref: VersionRef;
  readonly files: number;
  readonly bytes: number;
  readonly rootDigest: string;
  readonly meta: VersionMeta;
}

/** The keystore seen through a proxy that remembers which key versions its wraps used (whatever else the Keyring interface grows). */
function recording(ks: LocalKeystore, versions: Set<number>): Keyring {
  return new Proxy(ks, {
    get(target, prop) {
      if (prop === "wrap") {
        // every argument passes through: a sealed file v2 wrap carries the file's object id
        return async (name: string, dk: Uint8Array, ctx: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey> => {
          const w = await target.wrap(name, dk, ctx, objectId);
          versions.add(w.keyVersion);
          return w;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Pushes the model in `dir` as `ref`. Each file is sealed with encryption context
 * {model, version, path}; the manifest (by files) is signed; the version appears atomically.
 * @throws ArtifactError(INVALID_ARGUMENT) if the version exists or the folder is not a model; (DECRYPT_FAILED) if a file changed during the push; KeyError, AuditError.
 */
export async function pushModel(ks: LocalKeystore, store: RegistryStore, dir: string, ref: VersionRef, options: PushOptions): Promise<PushResult> {
  checkRef(ref);
  const ignore = normalizeIgnore(dir, [...DEFAULT_IGNORE, ...(options.ignore ?? [])]);
  const files = await listModelFiles(dir, ignore);
  const staged = await store.begin(ref);
  const versions = new Set<number>();
  const keyring = recording(ks, versions);
  try {
    const resources = await mapLimit(files, options.concurrency ?? 2, async (f, i): Promise<Resource> => {
      const hash = createHash("sha256");
      let seen = 0;
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of createReadStream(f.absolute, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          seen += chunk.length;
          yield chunk;
        }
      }
      const context = { model: ref.name, version: ref.version, path: f.name };
      await staged.write(`objects/${i}.pseal`, sealStream(keyring, hashed(), { keyName: options.keyName, context }));
      const after = await stat(f.absolute, { bigint: true });
      if (seen !== f.size || after.size !== BigInt(f.size) || after.mtimeNs !== f.mtimeNs) {
        throw new ArtifactError("ARTIFACT_MISMATCH", `${f.name} changed while it was being pushed; nothing was published`, [{ kind: "changed", path: f.name }]);
      }
      return { name: f.name, algorithm: "sha256", digest: hash.digest("hex") };
    });
    resources.sort((a, b) => compareResourceNames("files", a.name, b.name));
    const manifest: ModelManifest = {
      modelName: ref.name,
      serialization: { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: ignore },
      resources,
    };
    const root = rootDigest(resources);
    const bundle = await options.signer.signPayload(Buffer.from(JSON.stringify(toStatement(manifest), null, 2)), { name: ref.name, rootDigest: root });
    const meta: VersionMeta = {
      format: "pipeseal-registry/v1",
      name: ref.name,
      version: ref.version,
      encryptionKey: options.keyName,
      encryptionKeyVersions: [...versions].sort((a, b) => a - b),
      signer: { keyName: options.signer.info.name, alg: options.signer.info.alg, hint: options.signer.info.hint },
      rootDigest: root,
      pushedBy: ks.principal,
      pushedAt: new Date().toISOString(),
      files: files.map((f, i) => ({ path: f.name, object: `objects/${i}.pseal`, size: f.size })),
    };
    await staged.write(SIGNATURE_FILE, once(Buffer.from(JSON.stringify(bundle) + "\n")));
    await staged.write(META_FILE, once(Buffer.from(JSON.stringify(meta, null, 2) + "\n")));
    await staged.commit();
    ks.auditedChange(
      { operation: "registry.push", keyName: options.keyName, objectPath: `${ref.name}@${ref.version}`, context: { registry: store.location, root } },
      () => undefined,
    );
    return { ref, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0), rootDigest: root, meta };
  } catch (e) {
    await staged.abort().catch(() => undefined);
    throw e;
  }
}
