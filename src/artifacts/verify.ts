/**
 * Verification: signature and signer first (against the trust policy), then the model
 * folder re-hashed with the serialization the signature records, then a comparison that
 * names every changed, added, removed or renamed file.
 */
import { asObject } from "../io/json-value.js";
import path from "node:path";
import { parseBundle, verifyEnvelope } from "./dsse.js";
import { ArtifactError, failWith, type Problem } from "./errors.js";
import { fromStatement, resourcePath, type ModelManifest, type Resource } from "./manifest.js";
import type { HashPool } from "./serialize/hash-pool.js";
import { serializeModel } from "./serialize/serialize.js";
import type { TrustPolicy, TrustedKey } from "./trust.js";

export interface VerifiedSignature {
  readonly manifest: ModelManifest;
  readonly signer: TrustedKey;
}

/**
 * Checks a signature file's text: the signer must be trusted for the model (by `expectedName`
 * if given, else the name the signature claims), the signature must verify, and the manifest
 * must be consistent.
 * @throws ArtifactError(CERT_REJECTED) for an untrusted signer; (DECRYPT_FAILED) for a bad
 *   signature, a changed manifest or a name mismatch; (INVALID_ARGUMENT) for a malformed file.
 */
export function verifySignature(text: string, trust: TrustPolicy, expectedName?: string): VerifiedSignature {
  const bundle = parseBundle(text);
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"));
  } catch {
    statement = undefined;
  }
  const subjects = asObject(statement)?.subject;
  const claimed = Array.isArray(subjects) ? asObject(subjects[0])?.name : undefined;
  const name = expectedName ?? (typeof claimed === "string" ? claimed : "");
  const keys = trust.keysFor(name);
  const hint = bundle.verificationMaterial.publicKey.hint;
  const candidates = hint ? keys.filter((k) => k.hint === hint) : keys;
  if (candidates.length === 0) {
    failWith(
      [
        {
          kind: "untrusted",
          detail: `signer key ${hint ? hint.slice(0, 16) + "…" : "(no hint)"} is not trusted for model "${name}"; to trust it, add to the trust file: models: { ${JSON.stringify(name)}: [signing.pub.pem] } (written by \`pipeseal model key export NAME -o signing.pub.pem\`)`,
        },
      ],
      "untrusted signer",
    );
  }
  const signer = candidates.find((k) => verifyEnvelope(bundle, k.key));
  if (!signer) failWith([{ kind: "signature", detail: "the signature does not verify: the manifest or signature was changed" }], "signature invalid");
  if (statement === undefined) throw new ArtifactError("INVALID_ARGUMENT", "the signed payload is not JSON");
  const manifest = fromStatement(statement);
  if (manifest.modelName !== name) failWith([{ kind: "manifest", detail: `signed for model "${manifest.modelName}", expected "${name}"` }], "wrong model");
  return { manifest, signer };
}

/** File-level view: path → the digests (with shard ranges) that make it up. */
function byFile(m: Pick<ModelManifest, "serialization" | "resources">): Map<string, string> {
  const out = new Map<string, string[]>();
  for (const r of m.resources as Resource[]) {
    const p = resourcePath(m.serialization.method, r.name);
    const list = out.get(p) ?? [];
    list.push(m.serialization.method === "files" ? r.digest : `${r.name.slice(p.length)}=${r.digest}`);
    out.set(p, list);
  }
  return new Map([...out].map(([k, v]) => [k, v.join(",")]));
}

/** Every difference between the signed manifest and the one computed from disk, by file. */
export function compareManifests(
  expected: Pick<ModelManifest, "serialization" | "resources">,
  actual: Pick<ModelManifest, "serialization" | "resources">,
): Problem[] {
  const want = byFile(expected);
  const have = byFile(actual);
  const problems: Problem[] = [];
  const removed = [...want.keys()].filter((p) => !have.has(p));
  const added = new Set([...have.keys()].filter((p) => !want.has(p)));
  for (const [p, d] of want) if (have.has(p) && have.get(p) !== d) problems.push({ kind: "changed", path: p, detail: "digest differs" });
  for (const p of removed) {
    const to = [...added].find((a) => have.get(a) === want.get(p));
    if (to !== undefined) {
      added.delete(to);
      problems.push({ kind: "renamed", path: p, to });
    } else problems.push({ kind: "removed", path: p });
  }
  for (const p of added) problems.push({ kind: "added", path: p });
  return problems;
}

export interface VerifyModelOptions {
  readonly trust: TrustPolicy;
  /** The model name the signature must be for; default the name it claims. */
  readonly modelName?: string;
  /** Extra paths to ignore (e.g. the signature file when it sits in the folder). */
  readonly ignore?: readonly string[];
  readonly pool?: HashPool;
}

/**
 * Verifies a model folder against a signature.
 * @returns the verified manifest and signer.
 * @throws ArtifactError with `problems` naming each differing file (DECRYPT_FAILED), or CERT_REJECTED.
 * @example await verifyModel("models/churn-v3", sigText, { trust: loadTrustFile("trust.yaml") });
 */
export async function verifyModel(dir: string, signatureText: string, options: VerifyModelOptions): Promise<VerifiedSignature> {
  const verified = verifySignature(signatureText, options.trust, options.modelName);
  const ser = verified.manifest.serialization;
  const local = await serializeModel(dir, {
    modelName: path.basename(path.resolve(dir)),
    ignore: [...ser.ignore_paths, ...(options.ignore ?? [])],
    ...(ser.method === "shards" ? { shardSize: ser.shard_size } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
  }).catch((e) => {
    if (e instanceof ArtifactError && /no files/.test(e.message)) return { manifest: { serialization: ser, resources: [] as Resource[] } };
    throw e;
  });
  const problems = compareManifests(verified.manifest, local.manifest);
  if (problems.length) failWith(problems, `${dir} does not match its signature`);
  return verified;
}
