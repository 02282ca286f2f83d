/** `signModel`: hash a model folder, build the v1.0 statement, sign it with a keystore signing key. */
import path from "node:path";
import { ArtifactError } from "./errors.js";
import { parseBundle, verifyEnvelope, type Bundle } from "./dsse.js";
import { fromStatement, rootDigest, toStatement, type ModelManifest } from "./manifest.js";
import type { HashPool } from "./serialize/hash-pool.js";
import { serializeModel, type SerializeResult } from "./serialize/serialize.js";
import type { Signer } from "./signing-keys.js";

export interface SignModelOptions {
  readonly signer: Signer;
  /** Informative model name recorded as the subject; default the folder's base name. Trust files match on it. */
  readonly modelName?: string;
  /** Serialize by shards of this many bytes (upstream default 1e9); default by files. */
  readonly shardSize?: number;
  readonly ignore?: readonly string[];
  /** The text of an earlier signature of this folder, made with the same signing key: unchanged files are not re-hashed. */
  readonly incremental?: string;
  readonly pool?: HashPool;
}

export interface SignModelResult extends Omit<SerializeResult, "manifest"> {
  readonly bundle: Bundle;
  readonly manifest: ModelManifest;
  readonly rootDigest: string;
}

/**
 * Signs the model in `dir`.
 * @throws ArtifactError(INVALID_ARGUMENT) for an empty model, symlinks or a malformed previous signature;
 *   ArtifactError(CERT_REJECTED) when the previous signature is not by this signer; KeyError/AuditError from the keystore.
 * @example const { bundle } = await signModel("models/churn-v3", { signer: await openSigner(ks, home, "models/signing") });
 */
export async function signModel(dir: string, options: SignModelOptions): Promise<SignModelResult> {
  const previous = options.incremental === undefined ? undefined : trustedPrevious(options.incremental, options.signer);
  const result = await serializeModel(dir, {
    modelName: options.modelName ?? path.basename(path.resolve(dir)),
    ...(options.shardSize !== undefined ? { shardSize: options.shardSize } : {}),
    ...(options.ignore ? { ignore: options.ignore } : {}),
    ...(previous ? { previous } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
  });
  const m = result.manifest;
  const root = rootDigest(m.resources);
  const payload = Buffer.from(JSON.stringify(toStatement(m), null, 2));
  const bundle = await options.signer.signPayload(payload, { name: m.modelName, rootDigest: root });
  return { ...result, bundle, rootDigest: root };
}

/**
 * The previous manifest is reused only if its signature verifies under the same signing key:
 * otherwise an edited old manifest could launder digests into a new signature.
 */
function trustedPrevious(text: string, signer: Signer): ModelManifest {
  const bundle = parseBundle(text);
  if (!verifyEnvelope(bundle, signer.publicKey)) {
    throw new ArtifactError("SIGNER_UNTRUSTED", "--incremental: the previous signature does not verify under this signing key; sign without --incremental", [
      { kind: "untrusted", detail: "previous signature" },
    ]);
  }
  return fromStatement(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8")));
}
