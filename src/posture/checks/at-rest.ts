/**
 * At rest, verified: every file under a folder, glob or logs store is read (header only) and
 * compared with what the map says — sealed or not, under which key and version, with which
 * context — and with the key's state in the keystore. S3 stores are not reachable from here
 * and are reported as unverified, never as passing.
 */
import type { KeyInfo } from "../../keys/key-info.js";
import { SENSITIVE, defineCheck, finding } from "../finding.js";
import { type FileEntry, inventoryOf } from "../inventory.js";
import { keyInfosOf } from "../keys/read.js";
import type { Answers, CheckModule, Finding, StoreSpec } from "../types.js";

export const REST = {
  plaintext: defineCheck({
    id: "REST-PLAINTEXT",
    title: "Plaintext file in an encrypted store",
    severity: "high",
    question: "plaintext",
    description:
      "Every file under a store that names a key must be a pipeseal sealed file (PSEAL magic and a header that parses). A file without the magic is plaintext at rest; it is listed with the store's classification (critical for pii, phi, financial and secret). Files named like a decrypt output (x beside x.pseal, *.dec) are reported by PLAINTEXT-DECRYPTED-OUTPUT instead.",
    fix: "Seal the file (`pipeseal encrypt FILE -k KEY --context …`) and delete the plaintext, or move it out of the store if it does not belong there.",
  }),
  malformed: defineCheck({
    id: "REST-MALFORMED",
    title: "Sealed file with a malformed header",
    severity: "medium",
    question: "keys",
    description:
      "The file starts with the PSEAL magic but its header does not parse (truncated, corrupt or an unsupported format version), so it cannot be opened.",
    fix: "Restore the file from a good copy, or re-seal it from its source.",
  }),
  wrongKey: defineCheck({
    id: "REST-WRONG-KEY",
    title: "Sealed under another key than the map names",
    severity: "high",
    question: "keys",
    description:
      "None of the wrapped keys in the header names the key the map expects for this store: the data is protected, but by a key whose access rules and rotation the map does not describe.",
    fix: "Rewrap or re-seal the file under the store's key, or correct `key:` in the map.",
  }),
  context: defineCheck({
    id: "REST-CONTEXT",
    title: "Encryption context differs from the map",
    severity: "medium",
    question: "keys",
    description:
      "Each entry of the store's `context:` must be present, with the same value, in the sealed file's encryption context (the header carries it in the clear and it is authenticated). A difference means the file was sealed for another purpose or place.",
    fix: "Re-seal the file with the expected context (`--context k=v`), or correct the map.",
  }),
  unknownVersion: defineCheck({
    id: "REST-UNKNOWN-VERSION",
    title: "Key version not in the keystore",
    severity: "high",
    question: "keys",
    description: "The header names the store's key at a version the keystore does not have, so no one can open the file here.",
    fix: "Find the keystore the file was sealed with; otherwise the data is lost and the file should be removed.",
  }),
  destroyed: defineCheck({
    id: "REST-DESTROYED-VERSION",
    title: "File under a destroyed key version",
    severity: "high",
    question: "keys",
    description:
      "The file is sealed under a key version that was destroyed: it can never be opened again (crypto-shredded). Keeping it wastes space and hides data loss.",
    fix: "If the loss was intended (erasure), delete the file; if not, restore the data from its source and seal it under the current version.",
  }),
  belowMin: defineCheck({
    id: "REST-BELOW-MIN-VERSION",
    title: "File under a version below the key's minimum",
    severity: "medium",
    question: "keys",
    description: "The file's key version is below the key's minimum decryption version, so opening it is refused.",
    fix: "Lower the minimum temporarily (`pipeseal key set NAME --min-decrypt-version N`), `pipeseal rewrap` the file, then raise it again.",
  }),
  oldVersion: defineCheck({
    id: "REST-OLD-VERSION",
    title: "Files still under a non-primary key version",
    severity: "low",
    question: "keys",
    description:
      "After a rotation, files stay under the version they were sealed with until rewrapped. One finding per store, key and version, with the file count; disabled versions are noted in the evidence.",
    fix: "`pipeseal rewrap` the files so every file is under the primary version.",
  }),
  unencrypted: defineCheck({
    id: "REST-UNENCRYPTED-STORE",
    title: "Sensitive store declared unencrypted",
    severity: "medium",
    question: "plaintext",
    description: "The map names no key for a store classified confidential or above: everything in it is plaintext at rest by design.",
    fix: "Name a key for the store and seal its files, or reclassify the store if it holds no sensitive data.",
  }),
  missing: defineCheck({
    id: "REST-STORE-MISSING",
    title: "Store folder not found",
    severity: "medium",
    question: "keys",
    description: "The store's folder (or the glob's base folder) does not exist, so nothing in it could be verified.",
    fix: "Correct the path in the map, or remove the store.",
  }),
  s3: defineCheck({
    id: "REST-S3-UNVERIFIED",
    title: "S3 store not verified",
    severity: "info",
    question: "keys",
    description:
      "S3-compatible prefixes are not listed by posture (no S3 client, no credentials are used): the map's claim about them is reported, not verified.",
    fix: "Verify objects with `pipeseal inspect` on a sync of the prefix, or map the synced folder as a folder store.",
  }),
};

/** Files per key version, for the keys answer and REST-OLD-VERSION. */
type Seen = Map<string, { key: string; version: number; files: number; example: string }>;

export const atRestChecks: CheckModule = {
  definitions: Object.values(REST),
  async run(ctx) {
    const inv = await inventoryOf(ctx);
    const keys = await keyInfosOf(ctx);
    const findings: Finding[] = [];
    const keysAnswer: Answers["keys"][number][] = [];
    const plaintext: Answers["plaintext"][number][] = [];
    const examined: string[] = [];
    const nowMs = ctx.now.getTime();
    for (const stage of ctx.map.stages) {
      for (const store of stage.stores) {
        examined.push(store.id);
        const base = { stage: stage.id, subject: store.id };
        if (store.kind === "s3") {
          findings.push(
            finding(REST.s3, {
              ...base,
              location: store.url!,
              message: `${store.id}: ${store.url} is not verified (posture does not list S3 prefixes)`,
              evidence: { expectedKey: store.key ?? null },
            }),
          );
          keysAnswer.push({
            store: store.id,
            stage: stage.id,
            expectedKey: store.key ?? null,
            keysSeen: [],
            plaintextFiles: 0,
            sealedFiles: 0,
            verification: "unverified",
          });
          continue;
        }
        if (store.kind === "postgres") continue; // checks/postgres.ts
        if (inv.missing.includes(store.id)) {
          findings.push(finding(REST.missing, { ...base, location: store.path!, message: `${store.id}: ${store.path} does not exist` }));
          continue;
        }
        const files = inv.byStore.get(store.id) ?? [];
        const seen: Seen = new Map();
        let sealedCount = 0;
        let plainCount = 0;
        let oldestPlain: number | null = null;
        for (const f of files) {
          if (f.kind === "sealed") {
            sealedCount++;
            for (const k of f.sealed!.keys) {
              const id = `${k.keyName}@${k.keyVersion}`;
              const s = seen.get(id) ?? { key: k.keyName, version: k.keyVersion, files: 0, example: f.rel };
              s.files++;
              seen.set(id, s);
            }
            if (store.key) findings.push(...sealedFindings(f, store, keys));
          } else if (f.kind === "plaintext") {
            plainCount++;
            const age = Math.max(0, Math.round((nowMs - f.mtimeMs) / 1000));
            oldestPlain = Math.max(oldestPlain ?? 0, age);
            if (store.key && !f.decryptedOutputName) {
              plaintext.push({ stage: stage.id, location: f.rel, kind: "plaintext-file", ageSeconds: age });
              findings.push(
                finding(REST.plaintext, {
                  ...base,
                  location: f.rel,
                  severity: SENSITIVE.has(store.classification) ? "critical" : "high",
                  message: `${f.rel} is plaintext in ${store.id} (${store.classification}), which the map says is sealed under ${store.key}`,
                  evidence: { classification: store.classification, expectedKey: store.key, bytes: f.size, ageSeconds: age },
                }),
              );
            }
          } else if (f.kind === "malformed") {
            findings.push(
              finding(REST.malformed, {
                ...base,
                location: f.rel,
                message: `${f.rel} has the PSEAL magic but its header does not parse (${f.error})`,
                evidence: { error: f.error ?? null },
              }),
            );
          }
        }
        if (!store.key && store.classification !== "public" && store.classification !== "internal") {
          findings.push(
            finding(REST.unencrypted, {
              ...base,
              location: store.path ?? store.id,
              message: `${store.id} holds ${store.classification} data and the map names no key for it`,
              evidence: { classification: store.classification, plaintextFiles: plainCount },
            }),
          );
        }
        if (!store.key && plainCount > 0)
          plaintext.push({ stage: stage.id, location: relStore(store, ctx.map.baseDir), kind: "unencrypted-store", ageSeconds: oldestPlain });
        if (store.key && keys) findings.push(...oldVersionFindings(store, stage.id, seen, keys));
        keysAnswer.push({
          store: store.id,
          stage: stage.id,
          expectedKey: store.key ?? null,
          keysSeen: [...seen.values()].map(({ key, version, files }) => ({ key, version, files })),
          plaintextFiles: plainCount,
          sealedFiles: sealedCount,
        });
      }
    }
    return { findings, examined, facts: { keys: keysAnswer, plaintext }, stats: { filesExamined: inv.files.length, bytesRead: inv.bytesRead } };
  },
};

function relStore(store: StoreSpec, baseDir: string): string {
  const p = store.path ?? store.id;
  return p.startsWith(baseDir + "/") ? p.slice(baseDir.length + 1) : p;
}

/** A log store's key is a base name: segments are sealed under `<key>/payload` and `<key>/metadata`. */
export function storeKeyMatches(store: StoreSpec, keyName: string): boolean {
  return keyName === store.key || (store.kind === "logs" && keyName.startsWith(store.key + "/"));
}

function sealedFindings(f: FileEntry, store: StoreSpec, keys: ReadonlyMap<string, KeyInfo> | null): Finding[] {
  const out: Finding[] = [];
  const base = { stage: f.stage, subject: store.id, location: f.rel };
  const entry = f.sealed!.keys.find((k) => storeKeyMatches(store, k.keyName));
  if (!entry) {
    const names = f.sealed!.keys.map((k) => `${k.keyName}@v${k.keyVersion}`).join(", ");
    out.push(
      finding(REST.wrongKey, {
        ...base,
        message: `${f.rel} is sealed under ${names}, not ${store.key}`,
        evidence: { expectedKey: store.key!, foundKeys: names },
      }),
    );
  }
  for (const [k, v] of Object.entries(store.context ?? {})) {
    const got = f.sealed!.context[k];
    if (got !== v) {
      out.push(
        finding(REST.context, {
          ...base,
          message: `${f.rel}: context ${k} is ${got === undefined ? "missing" : `"${got}"`}, expected "${v}"`,
          evidence: { contextKey: k, expected: v, found: got ?? null },
        }),
      );
      break; // one finding per file: the first difference names the problem
    }
  }
  const key = entry ? keys?.get(entry.keyName) : undefined;
  if (!entry || !key) return out;
  const version = key.versions.find((v) => v.version === entry.keyVersion);
  const ev = { key: entry.keyName, version: entry.keyVersion };
  if (!version)
    out.push(
      finding(REST.unknownVersion, {
        ...base,
        message: `${f.rel} names ${entry.keyName} v${entry.keyVersion}, which the keystore does not have`,
        evidence: ev,
      }),
    );
  else if (version.state === "destroyed")
    out.push(
      finding(REST.destroyed, {
        ...base,
        message: `${f.rel} is sealed under ${entry.keyName} v${entry.keyVersion}, which was destroyed: it can no longer be opened`,
        evidence: { ...ev, destroyedAt: version.destroyedAt === null ? null : new Date(version.destroyedAt).toISOString() },
      }),
    );
  else if (entry.keyVersion < key.minDecryptVersion)
    out.push(
      finding(REST.belowMin, {
        ...base,
        message: `${f.rel} is under ${entry.keyName} v${entry.keyVersion}, below the minimum decryption version ${key.minDecryptVersion}`,
        evidence: { ...ev, minDecryptVersion: key.minDecryptVersion },
      }),
    );
  return out;
}

/** One finding per store and non-primary (still openable) version in use. */
function oldVersionFindings(store: StoreSpec, stage: FileEntry["stage"], seen: Seen, keys: ReadonlyMap<string, KeyInfo>): Finding[] {
  const out: Finding[] = [];
  for (const s of seen.values()) {
    const key = keys.get(s.key);
    if (!key || !storeKeyMatches(store, s.key) || s.version === key.primaryVersion) continue;
    const v = key.versions.find((x) => x.version === s.version);
    if (!v || v.state === "destroyed" || s.version < key.minDecryptVersion) continue; // reported per file above
    out.push(
      finding(REST.oldVersion, {
        stage,
        subject: store.id,
        location: `${key.name}@v${s.version}`,
        message: `${store.id}: ${s.files} file(s) under ${key.name} v${s.version} (${v.state}); the primary is v${key.primaryVersion}`,
        evidence: { key: key.name, version: s.version, state: v.state, primaryVersion: key.primaryVersion, files: s.files, example: s.example },
      }),
    );
  }
  return out;
}
