import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createSigningKey, openSigner, trustFromKeys, type Signer, type TrustPolicy } from "../../src/artifacts/index.js";
import type { LocalKeystore } from "../../src/keys/index.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

export interface Env {
  ks: LocalKeystore;
  home: string;
  signer: Signer;
  other: Signer;
  trust: (names: string[]) => TrustPolicy;
}

/** A keystore with a P-256 signing key `models/signing`, an Ed25519 key `models/other`, and `models/prod`. */
export async function setup(): Promise<Env> {
  const { ks, home } = await freshKeystore(["models/prod"]);
  await createSigningKey(ks, home, "models/signing", "p256");
  await createSigningKey(ks, home, "models/other", "ed25519");
  const signer = await openSigner(ks, home, "models/signing");
  const other = await openSigner(ks, home, "models/other");
  return { ks, home, signer, other, trust: (names) => trustFromKeys(Object.fromEntries(names.map((n) => [n, [signer.info.publicKeyPem]]))) };
}

/** A model folder: weights, a nested config, a README, and a .git folder that must be ignored. */
export function makeModel(name = "churn", weightBytes = 3 * 1024 * 1024 + 17): string {
  const dir = path.join(tempDir(), name);
  mkdirSync(path.join(dir, "config"), { recursive: true });
  mkdirSync(path.join(dir, ".git"), { recursive: true });
  writeFileSync(path.join(dir, "weights.bin"), randomBytes(weightBytes));
  writeFileSync(path.join(dir, "config", "model.json"), JSON.stringify({ layers: 3 }));
  writeFileSync(path.join(dir, "README.md"), "# churn\n");
  writeFileSync(path.join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
  return dir;
}
