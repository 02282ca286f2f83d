import { appendFileSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, cpSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ArtifactError,
  HashPool,
  hashRange,
  keyHint,
  loadTrustFile,
  parseBundle,
  rootDigest,
  signModel,
  trustFromKeys,
  verifyModel,
  verifySignature,
} from "../../src/artifacts/index.js";
import { createPublicKey } from "node:crypto";
import { tempDir } from "../helpers/keystore.js";
import { makeModel, setup, type Env } from "./helpers.js";

let env: Env;
beforeAll(async () => {
  env = await setup();
});

const sigText = (b: unknown) => JSON.stringify(b);

async function problemsOf(p: Promise<unknown>): Promise<{ code: string; problems: readonly { kind: string; path?: string; to?: string }[] }> {
  const e = await p.then(
    () => undefined,
    (x) => x,
  );
  expect(e).toBeInstanceOf(ArtifactError);
  return { code: (e as ArtifactError).code, problems: (e as ArtifactError).problems };
}

describe("sign/verify round trips", () => {
  for (const shardSize of [undefined, 1024 * 1024]) {
    it(`by ${shardSize ? "shards" : "files"}: verifies, ignores .git, records the v1.0 predicate`, async () => {
      const dir = makeModel();
      const r = await signModel(dir, { signer: env.signer, ...(shardSize ? { shardSize } : {}) });
      const statement = JSON.parse(Buffer.from(r.bundle.dsseEnvelope.payload, "base64").toString());
      expect(statement._type).toBe("https://in-toto.io/Statement/v1");
      expect(statement.predicateType).toBe("https://model_signing/signature/v1.0");
      expect(statement.subject[0]).toEqual({ name: "churn", digest: { sha256: rootDigest(r.manifest.resources) } });
      expect(statement.predicate.serialization.method).toBe(shardSize ? "shards" : "files");
      const names = r.manifest.resources.map((x) => x.name);
      expect(names.some((n) => n.startsWith(".git"))).toBe(false);
      if (shardSize)
        expect(names.filter((n) => n.startsWith("weights.bin:"))).toEqual([
          "weights.bin:0:1048576",
          "weights.bin:1048576:2097152",
          "weights.bin:2097152:3145728",
          "weights.bin:3145728:3145745",
        ]);
      else expect(names).toEqual(["README.md", "config/model.json", "weights.bin"]);
      const v = await verifyModel(dir, sigText(r.bundle), { trust: env.trust(["churn"]) });
      expect(v.signer.hint).toBe(env.signer.info.hint);
    });
  }

  it("Ed25519 keys sign and verify too", async () => {
    const dir = makeModel();
    const r = await signModel(dir, { signer: env.other });
    await verifyModel(dir, sigText(r.bundle), { trust: trustFromKeys({ churn: [env.other.info.publicKeyPem] }) });
  });

  it("orders resources as upstream (path components, then shard offsets numerically)", async () => {
    const dir = makeModel("order", 10);
    writeFileSync(path.join(dir, "a.txt"), "x");
    writeFileSync(path.join(dir, "config", "z"), "y");
    const r = await signModel(dir, { signer: env.signer });
    // "config/model.json" < "config/z" < "order"…; "a.txt" sorts after "README.md" (code points) and a folder "a/…" would sort before "a.txt"
    expect(r.manifest.resources.map((x) => x.name)).toEqual(["README.md", "a.txt", "config/model.json", "config/z", "weights.bin"]);
  });
});

describe("tampering is caught and named", () => {
  let dir: string;
  let sig: string;
  beforeAll(async () => {
    dir = makeModel();
    sig = sigText((await signModel(dir, { signer: env.signer, shardSize: 1024 * 1024 })).bundle);
  });
  const fresh = () => {
    const copy = path.join(tempDir(), "churn");
    cpSync(dir, copy, { recursive: true });
    return copy;
  };

  it("a changed byte in any file", async () => {
    for (const f of ["weights.bin", "config/model.json", "README.md"]) {
      const d = fresh();
      const p = path.join(d, f);
      const b = readFileSync(p);
      b[Math.floor(b.length / 2)]! ^= 1;
      writeFileSync(p, b);
      const r = await problemsOf(verifyModel(d, sig, { trust: env.trust(["churn"]) }));
      expect(r.code).toBe("ARTIFACT_MISMATCH");
      expect(r.problems).toEqual([{ kind: "changed", path: f, detail: "digest differs" }]);
    }
  });

  it("an added, a removed and a renamed file", async () => {
    const d = fresh();
    writeFileSync(path.join(d, "extra.py"), "import os\n");
    rmSync(path.join(d, "README.md"));
    renameSync(path.join(d, "config", "model.json"), path.join(d, "config", "model2.json"));
    const r = await problemsOf(verifyModel(d, sig, { trust: env.trust(["churn"]) }));
    expect(r.problems).toEqual(
      expect.arrayContaining([
        { kind: "added", path: "extra.py" },
        { kind: "removed", path: "README.md" },
        { kind: "renamed", path: "config/model.json", to: "config/model2.json" },
      ]),
    );
    expect(r.problems).toHaveLength(3);
  });

  it("a changed manifest (resource edited, or subject edited) fails the signature", async () => {
    const b = JSON.parse(sig);
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, "base64").toString());
    st.predicate.resources[0].digest = "0".repeat(64);
    st.subject[0].digest.sha256 = rootDigest(st.predicate.resources);
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString("base64");
    const r = await problemsOf(verifyModel(dir, JSON.stringify(b), { trust: env.trust(["churn"]) }));
    expect(r.code).toBe("SIGNATURE_INVALID");
    expect(r.problems[0]!.kind).toBe("signature");
  });

  it("a signature from an untrusted key", async () => {
    const r = await problemsOf(verifyModel(dir, sig, { trust: trustFromKeys({ churn: [env.other.info.publicKeyPem] }) }));
    expect(r.code).toBe("SIGNER_UNTRUSTED");
    expect(r.problems[0]!.kind).toBe("untrusted");
    // trusted, but for another model name
    const r2 = await problemsOf(verifyModel(dir, sig, { trust: env.trust(["other-model"]) }));
    expect(r2.code).toBe("SIGNER_UNTRUSTED");
  });

  it("a trust file in YAML", async () => {
    const t = tempDir();
    writeFileSync(path.join(t, "pub.pem"), env.signer.info.publicKeyPem);
    writeFileSync(
      path.join(t, "trust.yaml"),
      `models:\n  churn:\n    - pub.pem\n  other:\n    - |\n${env.other.info.publicKeyPem
        .trim()
        .split("\n")
        .map((l) => "      " + l)
        .join("\n")}\n`,
    );
    const trust = loadTrustFile(path.join(t, "trust.yaml"));
    await verifyModel(dir, sig, { trust });
    expect(trust.keysFor("other")[0]!.hint).toBe(env.other.info.hint);
  });
});

describe("compatibility with sigstore/model-transparency", () => {
  const vec = fileURLToPath(new URL("./vectors/upstream-v1.1.0-elliptic-key/", import.meta.url));
  it("verifies upstream's golden v1.1.0 elliptic-key signature (P-384) over its model", async () => {
    const pem = readFileSync(path.join(vec, "signing-key-pub.pem"), "utf8");
    expect(keyHint(createPublicKey(pem))).toBe(parseBundle(readFileSync(path.join(vec, "model.sig"), "utf8")).verificationMaterial.publicKey.hint);
    const v = await verifyModel(vec, readFileSync(path.join(vec, "model.sig"), "utf8"), {
      trust: trustFromKeys({ "v1.1.0-elliptic-key": [pem] }),
      ignore: ["model.sig", "signing-key-pub.pem"],
    });
    expect(v.manifest.resources.map((r) => r.name)).toEqual(["signme-1", "signme-2"]);
  });
  it("our bundle has upstream's JSON shape", async () => {
    const r = await signModel(makeModel(), { signer: env.signer });
    const b = JSON.parse(JSON.stringify(r.bundle));
    expect(Object.keys(b)).toEqual(["mediaType", "verificationMaterial", "dsseEnvelope"]);
    expect(b.verificationMaterial).toEqual({ publicKey: { hint: env.signer.info.hint }, tlogEntries: [] });
    expect(b.dsseEnvelope.signatures[0].keyid).toBe("");
    expect(verifySignature(JSON.stringify(b), env.trust(["churn"])).manifest.modelName).toBe("churn");
  });
});

describe("hashing", () => {
  it("the worker pool agrees with the single-thread reference on every range", async () => {
    const dir = makeModel("h", 5 * 1024 * 1024 + 3);
    const pool = new HashPool(2);
    const file = path.join(dir, "weights.bin");
    for (const [start, end] of [
      [0, 0],
      [0, 1],
      [0, 5 * 1024 * 1024 + 3],
      [4 * 1024 * 1024 - 1, 5 * 1024 * 1024 + 3],
      [123, 4567],
    ] as const) {
      expect(await pool.hash({ path: file, start, end })).toBe(await hashRange({ path: file, start, end }));
    }
    await pool.close();
  });

  it("--incremental re-hashes only files whose size or mtime changed", async () => {
    const dir = makeModel("inc", 4 * 1024 * 1024);
    const first = await signModel(dir, { signer: env.signer, shardSize: 1024 * 1024 });
    expect(first.bytesHashed).toBe(4 * 1024 * 1024 + 8 + 12); // weights, README.md, config/model.json
    appendFileSync(path.join(dir, "README.md"), "more\n");
    const second = await signModel(dir, { signer: env.signer, shardSize: 1024 * 1024, incremental: sigText(first.bundle) });
    expect(second.bytesHashed).toBe(13); // README.md only
    expect(second.filesHashed).toBe(1);
    expect(second.filesReused).toBe(2);
    await verifyModel(dir, sigText(second.bundle), { trust: env.trust(["inc"]) });
    // a rewritten weights file (new mtime) is re-hashed, and only it
    const w = path.join(dir, "weights.bin");
    const b = readFileSync(w);
    b[0]! ^= 1;
    writeFileSync(w, b);
    const t = new Date("2030-01-01T00:00:00Z");
    utimesSync(w, t, t);
    const third = await signModel(dir, { signer: env.signer, shardSize: 1024 * 1024, incremental: sigText(second.bundle) });
    expect([third.filesHashed, third.bytesHashed]).toEqual([1, 4 * 1024 * 1024]);
    await verifyModel(dir, sigText(third.bundle), { trust: env.trust(["inc"]) });
    // a previous signature by another key is refused
    const foreign = await signModel(dir, { signer: env.other, shardSize: 1024 * 1024 });
    await expect(signModel(dir, { signer: env.signer, incremental: sigText(foreign.bundle) })).rejects.toMatchObject({ code: "SIGNER_UNTRUSTED" });
  });

  it("symlinks are refused", async () => {
    const dir = makeModel("link", 10);
    const { symlinkSync } = await import("node:fs");
    symlinkSync("/etc/hostname", path.join(dir, "evil"));
    await expect(signModel(dir, { signer: env.signer })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("audit", () => {
  it("each signature is an audited unwrap plus a model.sign record", async () => {
    const before = env.ks.listAudit().length;
    await signModel(makeModel(), { signer: env.signer });
    const recs = env.ks.listAudit().slice(before);
    expect(recs.map((r) => r.operation)).toEqual(expect.arrayContaining(["decrypt", "model.sign"]));
  });
});
