/**
 * `pullModel` and `loadArtifact`: nothing is released before the signature (trust policy)
 * and the digest of every file check out.
 *
 * Pull order: signature and signer; meta.json cross-checked against the signed file list;
 * each object's header context checked to be {model, version, path}; then each object is
 * decrypted (AEAD: no unauthenticated byte comes out) into a private temp folder (0700)
 * beside the output while its SHA-256 is computed; only when every digest matches is the
 * temp folder renamed to the output. On any failure the temp folder is removed and the
 * output path is never created. Every pull, refused or not, is audited (`registry.pull`)
 * and logged in the registry (`.log/pulls.jsonl`).
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { readHeader, openStream } from "../../envelope/open.js";
import { Pull } from "../../envelope/pull.js";
import { writeAll } from "../../io/atomic.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { ArtifactError, failWith, type Problem } from "../errors.js";
import type { Resource } from "../manifest.js";
import type { TrustPolicy } from "../trust.js";
import { verifySignature, type VerifiedSignature } from "../verify.js";
import { mapLimit, readMeta, readSignature, type VersionMeta } from "./meta.js";
import { checkRef, parseRef, type RegistryStore, type VersionRef } from "./store.js";

export interface PullOptions {
  readonly trust: TrustPolicy;
  /** Files decrypted at once (default 2). */
  readonly concurrency?: number;
}

export interface PullResult {
  readonly ref: VersionRef;
  readonly files: number;
  readonly bytes: number;
  readonly signerHint: string;
}

interface Checked {
  readonly meta: VersionMeta;
  readonly verified: VerifiedSignature;
  readonly digests: Map<string, string>;
}

/** Signature, signer, and meta.json against the signed manifest. @throws ArtifactError */
export async function checkVersion(store: RegistryStore, ref: VersionRef, trust: TrustPolicy): Promise<Checked> {
  checkRef(ref);
  const meta = await readMeta(store, ref);
  const text = await readSignature(store, ref);
  if (text === null) failWith([{ kind: "unsigned", detail: `${ref.name}@${ref.version} has no signature` }], "refused");
  const verified = verifySignature(text, trust, ref.name);
  if (verified.manifest.serialization.method !== "files") throw new ArtifactError("INVALID_ARGUMENT", "registry versions are signed by files");
  const digests = new Map(verified.manifest.resources.map((r: Resource) => [r.name, r.digest]));
  const listed = new Set(meta.files.map((f) => f.path));
  const problems: Problem[] = [];
  for (const p of digests.keys()) if (!listed.has(p)) problems.push({ kind: "removed", path: p });
  for (const p of listed) if (!digests.has(p)) problems.push({ kind: "added", path: p });
  if (new Set(meta.files.map((f) => f.object)).size !== meta.files.length) problems.push({ kind: "manifest", detail: "two files share one object" });
  if (problems.length) failWith(problems, `${ref.name}@${ref.version} does not match its signature`);
  return { meta, verified, digests };
}

/** Refuses an object whose (authenticated-on-open) context is not the one this path must have. */
async function checkContext(store: RegistryStore, ref: VersionRef, file: { path: string; object: string }): Promise<void> {
  const header = await readHeader(new Pull(store.openObject(ref, file.object)));
  const c = header.context;
  if (c.model !== ref.name || c.version !== ref.version || c.path !== file.path) {
    failWith([{ kind: "changed", path: file.path, detail: "sealed for another model, version or path" }], `${ref.name}@${ref.version} does not match its signature`);
  }
}

async function audit(ks: LocalKeystore, store: RegistryStore, ref: VersionRef, error: unknown, extra: Record<string, string>): Promise<void> {
  const outcome = error === undefined ? "ok" : "refused";
  await store
    .appendLog({ time: new Date().toISOString(), principal: ks.principal, name: ref.name, version: ref.version, outcome, ...extra, ...(error instanceof Error ? { reason: error.message.slice(0, 300) } : {}) })
    .catch(() => undefined); // the keystore audit below is the record of truth; a read-only registry still serves pulls
  const event = { operation: "registry.pull", objectPath: `${ref.name}@${ref.version}`, context: { registry: store.location, ...extra } };
  if (error === undefined) ks.auditedChange(event, () => undefined);
  else {
    try {
      ks.auditedChange(event, () => {
        throw error;
      });
    } catch {
      /* recorded as denied/error; the caller rethrows the original */
    }
  }
}

/**
 * Pulls `ref` into `outDir` (which must not exist).
 * @throws ArtifactError (SIGNER_UNTRUSTED, ARTIFACT_UNSIGNED, SIGNATURE_INVALID, ARTIFACT_MISMATCH, ARTIFACT_NOT_FOUND); KeyError; AuditError.
 * @example await pullModel(ks, new FolderRegistry("registry"), { name: "churn", version: "3" }, "deploy/churn-v3", { trust: loadTrustFile("trust.yaml") });
 */
export async function pullModel(ks: LocalKeystore, store: RegistryStore, ref: VersionRef, outDir: string, options: PullOptions): Promise<PullResult> {
  const out = path.resolve(outDir);
  let temp: string | undefined;
  try {
    if (await stat(out).then(() => true, () => false)) throw new ArtifactError("INVALID_ARGUMENT", `${outDir} already exists; pull into a new folder`);
    const { meta, verified, digests } = await checkVersion(store, ref, options.trust);
    for (const f of meta.files) await checkContext(store, ref, f);
    temp = path.join(path.dirname(out), `.pseal-tmp-${path.basename(out)}.${randomBytes(6).toString("hex")}`);
    await mkdir(temp, { mode: 0o700 });
    const tempRoot = temp;
    const sizes = await mapLimit(meta.files, options.concurrency ?? 2, async (f) => {
      const target = path.join(tempRoot, ...f.path.split("/"));
      if (!target.startsWith(tempRoot + path.sep)) throw new ArtifactError("INVALID_ARGUMENT", `unsafe path in manifest: ${f.path}`);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      const hash = createHash("sha256");
      let n = 0;
      try {
        for await (const chunk of openStream(ks, store.openObject(ref, f.object), { path: `${store.location}#${ref.name}@${ref.version}/${f.path}` })) {
          hash.update(chunk);
          n += await writeAll(handle, chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (hash.digest("hex") !== digests.get(f.path)) failWith([{ kind: "changed", path: f.path, detail: "digest differs" }], `${ref.name}@${ref.version} does not match its signature`);
      return n;
    });
    const bytes = sizes.reduce((a, b) => a + b, 0);
    // fail closed: the pull is on record before the plaintext is released
    await audit(ks, store, ref, undefined, { files: String(meta.files.length), bytes: String(bytes), signer: verified.signer.hint });
    await rename(temp, out); // the release point: out appears only now, complete
    temp = undefined;
    return { ref, files: meta.files.length, bytes, signerHint: verified.signer.hint };
  } catch (e) {
    if (temp) await rm(temp, { recursive: true, force: true });
    await audit(ks, store, ref, e, {});
    throw e;
  }
}

/**
 * Loads one file of a registry version into memory, verified and decrypted, with no
 * plaintext written to disk: for an inference service that hands the bytes to its runtime
 * (e.g. onnxruntime-node `InferenceSession.create(buffer)`). Audited as a pull.
 * @throws as pullModel; ArtifactError(INVALID_ARGUMENT) when the version has no such file.
 * @example const bytes = await loadArtifact(ks, registry, "churn@3", "model.onnx", { trust });
 */
export async function loadArtifact(ks: LocalKeystore, store: RegistryStore, refText: string | VersionRef, file: string, options: { trust: TrustPolicy }): Promise<Buffer> {
  const ref = typeof refText === "string" ? parseRef(refText) : refText;
  try {
    const { meta, digests } = await checkVersion(store, ref, options.trust);
    const entry = meta.files.find((f) => f.path === file);
    if (!entry || !digests.has(file)) throw new ArtifactError("ARTIFACT_NOT_FOUND", `${ref.name}@${ref.version} has no file ${file}`);
    await checkContext(store, ref, entry);
    const parts: Buffer[] = [];
    const hash = createHash("sha256");
    for await (const chunk of openStream(ks, store.openObject(ref, entry.object), { path: `${store.location}#${ref.name}@${ref.version}/${file}` })) {
      hash.update(chunk);
      parts.push(chunk);
    }
    const data = Buffer.concat(parts);
    for (const p of parts) p.fill(0);
    if (hash.digest("hex") !== digests.get(file)) {
      data.fill(0);
      failWith([{ kind: "changed", path: file, detail: "digest differs" }], `${ref.name}@${ref.version} does not match its signature`);
    }
    await audit(ks, store, ref, undefined, { file, mode: "load" });
    return data;
  } catch (e) {
    await audit(ks, store, ref, e, { file, mode: "load" });
    throw e;
  }
}
