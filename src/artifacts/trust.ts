/**
 * Trust files: which signer public keys are accepted for which model name.
 *
 * ```yaml
 * models:
 *   churn:                 # the subject name in the signature (the registry name for pushes)
 *     - keys/signing.pub.pem          # a PEM file, relative to the trust file
 *   "*":                   # keys accepted for every model
 *     - |
 *       -----BEGIN PUBLIC KEY-----
 *       …
 * ```
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { yamlReader } from "../io/yaml-schema.js";
import { keyHint } from "./dsse.js";
import { ArtifactError } from "./errors.js";
import { TRUST_FILE_SCHEMA, type TrustFile } from "./trust-schema.js";

const readTrustFile = yamlReader<TrustFile>(TRUST_FILE_SCHEMA, (message) => new ArtifactError("INVALID_ARGUMENT", `trust file ${message}`));

export interface TrustedKey {
  readonly hint: string;
  readonly key: KeyObject;
  /** Where it came from (a file path or "inline"). */
  readonly source: string;
}

export interface TrustPolicy {
  /** Keys accepted for `modelName` (its own entries plus "*"). */
  keysFor(modelName: string): TrustedKey[];
}

/** Builds a policy from model name → PEM strings (tests, libraries). */
export function trustFromKeys(map: Readonly<Record<string, readonly string[]>>): TrustPolicy {
  const parsed = new Map<string, TrustedKey[]>();
  for (const [model, pems] of Object.entries(map))
    parsed.set(
      model,
      pems.map((pem) => toTrusted(pem, "inline")),
    );
  return { keysFor: (name) => [...(parsed.get(name) ?? []), ...(name === "*" ? [] : (parsed.get("*") ?? []))] };
}

function toTrusted(pem: string, source: string): TrustedKey {
  try {
    const key = createPublicKey(pem);
    return { hint: keyHint(key), key, source };
  } catch {
    throw new ArtifactError("INVALID_ARGUMENT", `trust file: ${source} is not a PEM public key`);
  }
}

/**
 * Reads a YAML trust file (checked against trust-schema.ts).
 * @throws ArtifactError(INVALID_ARGUMENT) for a missing, malformed or unreadable file or key:
 *   `trust file FILE:LINE:COL: path: what` for a mistake inside the file.
 */
export function loadTrustFile(file: string): TrustPolicy {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ArtifactError("INVALID_ARGUMENT", `cannot read trust file ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const doc = readTrustFile(text, file);
  const map: Record<string, string[]> = {};
  const base = path.dirname(path.resolve(file));
  for (const [model, entries] of Object.entries(doc.data.models)) {
    map[model] = entries.map((e, i) => {
      if (e.includes("-----BEGIN")) return e;
      try {
        return readFileSync(path.resolve(base, e), "utf8");
      } catch {
        // a path is not a secret, but the position says which entry without repeating it
        return doc.fail(["models", model, i], "cannot read this key file");
      }
    });
  }
  return trustFromKeys(map);
}
