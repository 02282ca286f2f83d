/** `listRegistry`: what a registry holds and who pulled it, from meta.json, the (unverified) signature and the registry's pull log. */
import { ArtifactError } from "../errors.js";
import { parseBundle } from "../dsse.js";
import { fromStatement } from "../manifest.js";
import { readMeta, readSignature } from "./meta.js";
import type { RegistryStore } from "./store.js";

export interface RegistryEntry {
  readonly name: string;
  readonly version: string;
  readonly rootDigest: string;
  readonly files: readonly { path: string; size: number; digest: string | null }[];
  readonly signed: boolean;
  readonly signerHint: string | null;
  readonly signerKey: string | null;
  readonly encryptionKey: string;
  readonly encryptionKeyVersions: readonly number[];
  readonly pushedBy: string;
  readonly pushedAt: string;
  readonly pulls: readonly { time: string; principal: string; outcome: string }[];
}

/** Lists every version. Signatures are parsed, not verified (pull verifies). */
export async function listRegistry(store: RegistryStore): Promise<RegistryEntry[]> {
  const log = await store.readLog();
  const out: RegistryEntry[] = [];
  for (const ref of await store.listVersions()) {
    const meta = await readMeta(store, ref).catch(() => null);
    if (!meta) continue;
    const text = await readSignature(store, ref);
    let digests = new Map<string, string>();
    let hint: string | null = null;
    if (text !== null) {
      try {
        const b = parseBundle(text);
        hint = b.verificationMaterial.publicKey.hint || null;
        digests = new Map(fromStatement(JSON.parse(Buffer.from(b.dsseEnvelope.payload, "base64").toString("utf8"))).resources.map((r) => [r.name, r.digest]));
      } catch (e) {
        if (!(e instanceof ArtifactError)) throw e;
      }
    }
    out.push({
      name: ref.name,
      version: ref.version,
      rootDigest: meta.rootDigest,
      files: meta.files.map((f) => ({ path: f.path, size: f.size, digest: digests.get(f.path) ?? null })),
      signed: text !== null,
      signerHint: hint,
      signerKey: meta.signer?.keyName ?? null,
      encryptionKey: meta.encryptionKey,
      encryptionKeyVersions: meta.encryptionKeyVersions,
      pushedBy: meta.pushedBy,
      pushedAt: meta.pushedAt,
      pulls: log
        .filter((l) => l.name === ref.name && l.version === ref.version)
        .map((l) => ({ time: String(l.time), principal: String(l.principal), outcome: String(l.outcome) })),
    });
  }
  return out;
}
