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
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { readHeader, openStream } from "../../envelope/open.js";
import type { SealedHeader } from "../../envelope/header.js";
import { Pull } from "../../envelope/stream-head.js";
import { unlockForUse } from "../../envelope/unlock.js";
import { isPipesealError } from "../../errors.js";
import { writeAll } from "../../io/atomic.js";
import { removeStaleTemps, tempPathFor, trackTemp } from "../../io/temp-files.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { ArtifactError, failWith, type Problem } from "../errors.js";
import type { Resource } from "../manifest.js";
import type { TrustPolicy } from "../trust.js";
import { verifySignature, type VerifiedSignature } from "../verify.js";
import { FolderRegistry } from "./folder-store.js";
import { readMeta, readSignature, type VersionMeta } from "./meta.js";
import { readHeaderFd, type ObjectResult } from "./object-file.js";
import { PullWorkers } from "./pull-pool.js";
import { checkRef, parseRef, type RegistryStore, type VersionRef } from "./store.js";

export interface PullOptions {
  readonly trust: TrustPolicy;
  /** Files decrypted at once (default: the core count, 2 to 8). */
  readonly concurrency?: number;
  /**
   * Decrypt on worker threads, reading the registry's files directly ("auto", the default:
   * for a folder registry when the version holds at least 64 MiB and the built worker exists;
   * false: always stream on the main thread, the reference path).
   */
  readonly threads?: boolean | "auto";
}

/** Below this many sealed bytes, worker start-up costs more than it gains. */
const THREADS_MIN_BYTES = 64 * 1024 * 1024;
/** Output files kept open for the fsync at the end; beyond this, the oldest is synced at once. */
const MAX_UNSYNCED = 64;

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
  contextProblem(ref, file, header.context);
}

const REFUSALS = /^(SIGN|ARTIFACT_(UNSIGNED|MISMATCH)|DECRYPT_FAILED|KEY)/;

async function audit(ks: LocalKeystore, store: RegistryStore, ref: VersionRef, error: unknown, extra: Record<string, string>): Promise<void> {
  // "refused": the artifact failed a check (signature, trust, digest, key); "failed": the pull
  // could not run (a bad argument, an I/O error), which says nothing about the artifact
  const outcome = error === undefined ? "ok" : isPipesealError(error) && REFUSALS.test(error.code) ? "refused" : "failed";
  await store
    .appendLog({
      time: new Date().toISOString(),
      principal: ks.principal,
      name: ref.name,
      version: ref.version,
      outcome,
      ...extra,
      ...(error instanceof Error ? { reason: error.message.slice(0, 300) } : {}),
    })
    .catch(() => undefined); // the keystore audit below is the record of truth; a read-only registry still serves pulls
  const event = { operation: "registry.pull", objectPath: `${ref.name}@${ref.version}`, context: { registry: store.location, ...extra } };
  if (error === undefined) ks.auditedChange(event, () => undefined);
  else {
    const failure: unknown = error; // rethrown as caught: the keystore records its code
    try {
      ks.auditedChange(event, () => {
        throw failure;
      });
    } catch {
      /* recorded as denied/error; the caller rethrows the original */
    }
  }
}

function contextProblem(ref: VersionRef, file: { path: string }, c: Record<string, string>): void {
  if (c.model !== ref.name || c.version !== ref.version || c.path !== file.path) {
    failWith(
      [{ kind: "changed", path: file.path, detail: "sealed for another model, version or path" }],
      `${ref.name}@${ref.version} does not match its signature`,
    );
  }
}

/** Opens a folder-registry object, reads and checks its header, runs `fn`, closes it. */
async function withObject<T>(
  store: FolderRegistry,
  ref: VersionRef,
  file: { path: string; object: string },
  fn: (fd: number, header: SealedHeader) => Promise<T>,
): Promise<T> {
  const handle = await open(store.objectPath(ref, file.object), "r");
  try {
    const header = readHeaderFd(handle.fd);
    contextProblem(ref, file, header.context);
    return await fn(handle.fd, header);
  } finally {
    await handle.close();
  }
}

/** Creates the output file for `file` inside the private temp folder (0600, exclusive). */
async function createTarget(tempRoot: string, file: string): Promise<FileHandle> {
  const target = path.join(tempRoot, ...file.split("/"));
  if (!target.startsWith(tempRoot + path.sep)) throw new ArtifactError("INVALID_ARGUMENT", `unsafe path in manifest: ${file}`);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  return open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, "r").catch(() => undefined);
  if (!h) return;
  await h.sync().catch(() => undefined); // some filesystems refuse fsync on folders
  await h.close();
}

/**
 * Decrypts and hashes every file of the version into `tempRoot`, checks each digest against
 * the signed manifest, then fsyncs every file (once, at the end, so the disk flushes while
 * later files decrypt) and the folders. Returns the plaintext sizes.
 */
async function decryptAll(
  ks: LocalKeystore,
  store: RegistryStore,
  ref: VersionRef,
  meta: VersionMeta,
  digests: Map<string, string>,
  tempRoot: string,
  options: PullOptions,
): Promise<number[]> {
  const lanes = Math.max(1, Math.min(options.concurrency ?? Math.min(Math.max(availableParallelism(), 2), 8), meta.files.length || 1));
  const sealedBytes = meta.files.reduce((a, f) => a + (Number.isFinite(f.size) ? f.size : 0), 0);
  const wantThreads = options.threads === true || ((options.threads ?? "auto") === "auto" && sealedBytes >= THREADS_MIN_BYTES);
  const workers = store instanceof FolderRegistry && wantThreads && PullWorkers.available() ? new PullWorkers(lanes) : undefined;
  const unsynced: FileHandle[] = [];
  const opened = new Set<FileHandle>();
  const auditPath = (f: { path: string }) => `${store.location}#${ref.name}@${ref.version}/${f.path}`;
  const mismatch = (f: { path: string }) =>
    failWith([{ kind: "changed", path: f.path, detail: "digest differs" }], `${ref.name}@${ref.version} does not match its signature`);
  // Early flushes: while a worker decrypts, the disk already writes what it wrote (else the
  // kernel waits for its dirty threshold and the fsync at the end does all the writing). A
  // failed early flush fails the pull: its error would not be reported again by the last fsync.
  const flushing = new Map<FileHandle, Promise<void>>();
  let flushError: NodeJS.ErrnoException | undefined;
  const flushSoon = (handle: FileHandle): void => {
    if (flushing.has(handle)) return;
    const p = handle.datasync().then(
      () => void flushing.delete(handle),
      (e: NodeJS.ErrnoException) => {
        flushError ??= e;
        flushing.delete(handle);
      },
    );
    flushing.set(handle, p);
  };
  const finish = async (handle: FileHandle): Promise<void> => {
    unsynced.push(handle);
    while (unsynced.length > MAX_UNSYNCED) {
      const h = unsynced.shift()!;
      await h.sync();
      await h.close();
      opened.delete(h);
    }
  };
  try {
    let next = 0;
    let failed = false;
    const sizes = new Array<number>(meta.files.length);
    const lane = async (laneNo: number): Promise<void> => {
      while (!failed && next < meta.files.length) {
        const i = next++;
        const f = meta.files[i];
        try {
          const handle = await createTarget(tempRoot, f.path);
          opened.add(handle);
          let result: ObjectResult;
          if (workers) {
            result = await withObject(store as FolderRegistry, ref, f, async (fd, header) => {
              const unlocked = await unlockForUse(ks, header, { operation: "decrypt", path: auditPath(f) });
              try {
                return await workers.run(laneNo, unlocked.state, fd, header.length, handle.fd, () => flushSoon(handle));
              } catch (e) {
                await unlocked.failed(e); // the key was released; the decrypt did not complete
                throw e;
              }
            });
          } else {
            const hash = createHash("sha256");
            let n = 0;
            for await (const chunk of openStream(ks, store.openObject(ref, f.object), { path: auditPath(f) })) {
              hash.update(chunk);
              n += await writeAll(handle, chunk);
            }
            result = { bytes: n, digest: hash.digest("hex") };
          }
          if (result.digest !== digests.get(f.path)) mismatch(f);
          sizes[i] = result.bytes;
          await finish(handle);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    const outcomes = await Promise.allSettled(Array.from({ length: lanes }, (_, l) => lane(l)));
    const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (rejected) throw rejected.reason as Error; // a lane rejects only with what its reads and writes threw
    // durability before release: every file, then every folder, reaches the disk before the rename
    await Promise.all(flushing.values());
    if (flushError !== undefined) throw flushError;
    await Promise.all(unsynced.map((h) => h.sync()));
    const dirs = new Set([tempRoot]);
    for (const f of meta.files)
      for (let d = path.dirname(path.join(tempRoot, ...f.path.split("/"))); d.startsWith(tempRoot + path.sep); d = path.dirname(d)) dirs.add(d);
    await Promise.all([...dirs].map(syncDir));
    return sizes;
  } finally {
    await Promise.all(flushing.values());
    await Promise.all([...opened].map((h) => h.close().catch(() => undefined)));
    await workers?.close();
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
  let untrack = () => undefined as void;
  try {
    if (
      await stat(out).then(
        () => true,
        () => false,
      )
    )
      throw new ArtifactError("INVALID_ARGUMENT", `${outDir} already exists; pull into a new folder`);
    const { meta, verified, digests } = await checkVersion(store, ref, options.trust);
    if (store instanceof FolderRegistry) {
      for (const f of meta.files) await withObject(store, ref, f, async () => undefined); // every header checked before anything is decrypted
    } else for (const f of meta.files) await checkContext(store, ref, f);
    await mkdir(path.dirname(out), { recursive: true }); // as `decrypt -o` users expect: parents are created
    await removeStaleTemps(path.dirname(out));
    temp = tempPathFor(out);
    untrack = trackTemp(temp, "dir"); // plaintext: removed on a stop signal too
    await mkdir(temp, { mode: 0o700 });
    const sizes = await decryptAll(ks, store, ref, meta, digests, temp, options);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    // fail closed: the pull is on record before the plaintext is released
    await audit(ks, store, ref, undefined, { files: String(meta.files.length), bytes: String(bytes), signer: verified.signer.hint });
    await rename(temp, out); // the release point: out appears only now, complete
    temp = undefined;
    untrack();
    return { ref, files: meta.files.length, bytes, signerHint: verified.signer.hint };
  } catch (e) {
    if (temp) await rm(temp, { recursive: true, force: true });
    untrack();
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
export async function loadArtifact(
  ks: LocalKeystore,
  store: RegistryStore,
  refText: string | VersionRef,
  file: string,
  options: { trust: TrustPolicy },
): Promise<Buffer> {
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
