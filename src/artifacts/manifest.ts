/**
 * The model manifest in the OpenSSF model-signing v1.0 shape (github sigstore/model-transparency,
 * `model_signing/_signing/signing.py` Payload and `manifest.py`): an in-toto Statement v1 whose
 * predicate `https://model_signing/signature/v1.0` holds the serialization method and one
 * resource (name, algorithm, digest) per file or shard, and whose single subject carries a
 * SHA-256 over all resource digests in canonical order.
 */
import { createHash } from "node:crypto";
import { ArtifactError } from "./errors.js";
import { asObject } from "../io/json-value.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const PREDICATE_TYPE = "https://model_signing/signature/v1.0";
/** Files that never belong to a model (the upstream defaults). */
export const DEFAULT_IGNORE = [".git", ".gitattributes", ".github", ".gitignore"] as const;

export interface FilesSerialization {
  readonly method: "files";
  readonly hash_type: "sha256";
  readonly allow_symlinks: false;
  readonly ignore_paths: readonly string[];
}
export interface ShardsSerialization {
  readonly method: "shards";
  readonly hash_type: "sha256";
  readonly shard_size: number;
  readonly allow_symlinks: false;
  readonly ignore_paths: readonly string[];
}
export type Serialization = FilesSerialization | ShardsSerialization;

export interface Resource {
  /** A POSIX path relative to the model root; for shards `path:start:end`. */
  readonly name: string;
  readonly algorithm: "sha256";
  /** Lowercase hex. */
  readonly digest: string;
}

/** Size and mtime of a file when it was hashed: what `--incremental` compares. Not part of upstream v1.0 (an extra predicate field, which v1.0 verifiers ignore). */
export interface FileStat {
  readonly name: string;
  readonly size: number;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly mtime_ns: string;
}

export interface ModelManifest {
  readonly modelName: string;
  readonly serialization: Serialization;
  /** Sorted canonically (see compareResourceNames). */
  readonly resources: readonly Resource[];
  readonly files?: readonly FileStat[];
}

/** Splits a shard resource name `path:start:end` (the path may itself contain colons). */
export function parseShardName(name: string): { path: string; start: number; end: number } {
  const m = /^(.*):(\d+):(\d+)$/.exec(name);
  if (!m) throw new ArtifactError("INVALID_ARGUMENT", `bad shard resource name ${JSON.stringify(name.slice(0, 80))}`);
  return { path: m[1], start: Number(m[2]), end: Number(m[3]) };
}

/** Code-point order, as Python compares str (JS `<` compares UTF-16 units). */
function comparePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** PurePosixPath order: component lists compared element by element. */
function comparePaths(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = comparePoints(x[i], y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * The canonical resource order upstream uses (`sorted()` over File or Shard keys): by path
 * components, then for shards by start and end as numbers.
 */
export function compareResourceNames(method: Serialization["method"], a: string, b: string): number {
  if (method === "files") return comparePaths(a, b);
  const x = parseShardName(a);
  const y = parseShardName(b);
  return comparePaths(x.path, y.path) || x.start - y.start || x.end - y.end;
}

/** SHA-256 over the raw bytes of every resource digest, in order: the subject digest. */
export function rootDigest(resources: readonly Resource[]): string {
  const h = createHash("sha256");
  for (const r of resources) h.update(Buffer.from(r.digest, "hex"));
  return h.digest("hex");
}

/** The model path a resource covers. */
export function resourcePath(method: Serialization["method"], name: string): string {
  return method === "files" ? name : parseShardName(name).path;
}

/** The in-toto Statement v1 for a manifest (key order as upstream writes it). */
export function toStatement(m: ModelManifest): Record<string, unknown> {
  const predicate: Record<string, unknown> = { serialization: m.serialization, resources: m.resources };
  if (m.files) predicate.pipeseal_files = m.files;
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: m.modelName, digest: { sha256: rootDigest(m.resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Parses and checks a statement: type, predicate type, one subject, known serialization,
 * well-formed resources, and a subject digest that matches the resources (a manifest edited
 * after signing fails here or at the signature).
 * @throws ArtifactError(INVALID_ARGUMENT) for malformed input, (DECRYPT_FAILED) for an inconsistent root digest.
 */
export function fromStatement(value: unknown): ModelManifest {
  const bad = (why: string): never => {
    throw new ArtifactError("INVALID_ARGUMENT", `not a model-signing v1.0 statement: ${why}`);
  };
  const s = asObject(value) ?? bad("not an object");
  if (s._type !== STATEMENT_TYPE) bad(`_type is ${JSON.stringify(s._type)}`);
  if (s.predicateType !== PREDICATE_TYPE) bad(`predicateType is ${JSON.stringify(s.predicateType)}`);
  if (!Array.isArray(s.subject) || s.subject.length !== 1) bad("expected exactly one subject");
  const subject = asObject((s.subject as unknown[])[0]);
  const subjectName = subject?.name;
  const subjectDigest = asObject(subject?.digest)?.sha256;
  if (typeof subjectName !== "string" || typeof subjectDigest !== "string") return bad("subject needs a name and a sha256 digest");
  const p = asObject(s.predicate);
  const ser = asObject(p?.serialization);
  if (!ser || (ser.method !== "files" && ser.method !== "shards")) return bad(`unknown serialization method ${JSON.stringify(ser?.method)}`);
  if (ser.hash_type !== "sha256") bad(`hash_type ${JSON.stringify(ser.hash_type)} is not supported (sha256 only)`);
  if (ser.allow_symlinks === true) bad("allow_symlinks: true is not supported");
  const shardSize = ser.shard_size;
  if (ser.method === "shards" && !(typeof shardSize === "number" && Number.isSafeInteger(shardSize) && shardSize > 0)) bad("bad shard_size");
  const ignore = ser.ignore_paths ?? [];
  if (!Array.isArray(ignore) || ignore.some((x: unknown) => typeof x !== "string")) return bad("ignore_paths must be a list of strings");
  const ignorePaths = ignore as string[];
  const serialization: Serialization =
    ser.method === "files"
      ? { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: ignorePaths }
      : { method: "shards", hash_type: "sha256", shard_size: shardSize as number, allow_symlinks: false, ignore_paths: ignorePaths };
  const listed = p?.resources;
  if (!Array.isArray(listed)) return bad("predicate.resources must be a list");
  const resources: Resource[] = listed.map((item: unknown) => {
    const r = asObject(item);
    const name = r?.name;
    const digest = r?.digest;
    if (typeof name !== "string" || r?.algorithm !== "sha256" || typeof digest !== "string" || !HEX64.test(digest))
      return bad("a resource needs name, algorithm sha256 and a hex digest");
    if (serialization.method === "shards") parseShardName(name);
    return { name, algorithm: "sha256", digest };
  });
  if (rootDigest(resources) !== subjectDigest) {
    throw new ArtifactError("ARTIFACT_MISMATCH", "the manifest is inconsistent: its resources do not hash to the subject digest", [
      { kind: "manifest", detail: "resources do not match the subject digest" },
    ]);
  }
  const files = Array.isArray(p?.pipeseal_files) ? (p.pipeseal_files as FileStat[]) : undefined;
  return { modelName: subjectName, serialization, resources, ...(files ? { files } : {}) };
}
