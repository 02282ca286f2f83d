/**
 * Stage 6, registry: the final model is signed (OpenSSF model signing) and pushed to the
 * encrypted registry (each file sealed under the models key); then its plaintext folder on
 * tmpfs is removed. A tampered copy and an unsigned one are refused before any byte is used.
 */
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { FolderRegistry, loadArtifact, openSigner, pushModel, signingKeyInfo, trustFromKeys } from "../artifacts/index.js";
import { type Demo, check } from "./context.js";
import { KEYS } from "./keys.js";
import { SIGNING_KEY } from "./train.js";

export const MODEL = "churn";
export const MODEL_VERSION = "1";

export async function registryStage(d: Demo): Promise<void> {
  const store = new FolderRegistry(d.dir.registry);
  const signer = await openSigner(d.ks, d.dir.home, SIGNING_KEY);
  const modelDir = d.facts.modelDir as string;
  const pushed = await pushModel(d.ks, store, modelDir, { name: MODEL, version: MODEL_VERSION }, { keyName: KEYS.models, signer });
  rmSync(modelDir, { recursive: true, force: true });
  rmSync(d.facts.ramFolder as string, { recursive: true, force: true });
  const plaintextMs = Date.now() - (d.facts.plaintextSince as number);
  d.facts.plaintextMs = plaintextMs;
  const pub = (await signingKeyInfo(d.dir.home, SIGNING_KEY)).publicKeyPem;
  writeFileSync(path.join(d.dir.root, "trust.pem"), pub);
  const trust = trustFromKeys({ [MODEL]: [pub] });
  d.facts.trustPem = pub;
  d.say(
    `${MODEL}@${MODEL_VERSION}: ${pushed.files} files sealed under ${KEYS.models}, manifest signed (OpenSSF bundle, ${SIGNING_KEY}); the tmpfs outputs existed ${plaintextMs} ms`,
  );

  // attacks: a tampered copy and an unsigned copy of the registry
  const attack = path.join(d.dir.root, "attacks");
  const tampered = path.join(attack, "tampered");
  cpSync(d.dir.registry, tampered, { recursive: true });
  const objects = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith(".pseal"))
      .map((e) => path.join(e.parentPath, e.name));
  for (const victim of objects(tampered)) {
    const bytes = readFileSync(victim);
    bytes[bytes.length - 20] ^= 1; // one bit in the last segment's ciphertext
    writeFileSync(victim, bytes);
  }
  const refused = async (root: string) =>
    loadArtifact(d.ks, new FolderRegistry(root), `${MODEL}@${MODEL_VERSION}`, "weights.json", { trust }).then(
      (b) => (b.fill(0), null),
      (e: { code?: string }) => e.code ?? "error",
    );
  const tamperCode = await refused(tampered);
  check(tamperCode !== null, "registry: a tampered copy must be refused");
  const unsigned = path.join(attack, "unsigned");
  cpSync(d.dir.registry, unsigned, { recursive: true });
  for (const f of readdirSync(unsigned, { recursive: true, withFileTypes: true }))
    if (f.isFile() && /sig|bundle/.test(f.name)) rmSync(path.join(f.parentPath, f.name));
  const unsignedCode = await refused(unsigned);
  check(unsignedCode !== null, "registry: an unsigned copy must be refused");
  rmSync(attack, { recursive: true, force: true });
  d.say(`attacks refused: a flipped byte in a sealed file (${tamperCode}), a copy without its signature (${unsignedCode})`);
  d.row({
    stage: "registry",
    atRest: `sealed files (${KEYS.models}), signed manifest`,
    inTransit: "files stay sealed when copied",
    inUse: "verify before load",
  });
}
