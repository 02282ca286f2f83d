#!/usr/bin/env node
/**
 * Regenerates test/vectors/sealed-v2/*.json (format v2, docs/format.md) from pipeseal's
 * *production* code (built JS), with every random value fixed. Not run by the test suite; the
 * JSON files are checked in. The v1 vectors in test/vectors/sealed/ were made by this script's
 * v1 predecessor (git history) and are frozen: v1 is read forever, never written.
 *
 *   npm run build && node test/format/make-vectors.mjs [distDir]     (distDir defaults to dist/)
 *
 * Randomness is fixed by replacing node:crypto.randomBytes and syncing the built-in ESM
 * exports before the production modules run, so the bytes come from the real seal path
 * (startSeal -> startEncryption -> keyring.wrap -> tags -> encryptSegment), not from the
 * reference reader in reference.ts. Draws are checked in order and size:
 *   data key (32), FLOE IV (32), one wrap IV (12) per key name, one AEAD IV (12) per segment
 * (a draw may take several consecutive values, as segment IVs are drawn per batch).
 * Every input is derived as SHA-256("pipeseal-vector/<name>/<label>"), truncated.
 */
import { createHash } from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const dist = path.resolve(process.argv[2] ?? path.join(root, "dist"));
const outDir = path.join(root, "test", "vectors", "sealed-v2");

// --- fixed randomness -------------------------------------------------------------------
const require = createRequire(import.meta.url);
const crypto = require("node:crypto");
let queue = [];
// One draw may take several whole values at once (segment IVs are drawn per batch), never part of one.
crypto.randomBytes = (n, cb) => {
  if (cb) throw new Error("async randomBytes is not expected on the seal path");
  const parts = [];
  let got = 0;
  while (got < n) {
    const next = queue.shift();
    if (!next) throw new Error(`unexpected randomBytes(${n}): queue empty`);
    if (got + next.length > n) throw new Error(`randomBytes(${n}) would split the fixed value ${next.label} (${next.length} bytes)`);
    parts.push(next.bytes);
    got += next.length;
  }
  return Buffer.concat(parts);
};
syncBuiltinESMExports();

const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { sealBuffer } = await imp("envelope/buffer.js");
const { decodeHeader } = await imp("envelope/header.js");
const { headerHash } = await imp("envelope/unlock.js");
const { sealDataKey, wrapAad } = await imp("keys/wrap-format.js");
const { blockKey, entryDigest } = await imp("keys/key-block.js");
const { SEGMENT_OVERHEAD } = await imp("crypto/floe.js");

const derive = (name, label, n) => createHash("sha256").update(`pipeseal-vector/${name}/${label}`).digest().subarray(0, n);
const fixed = (label, bytes) => ({ label, bytes, length: bytes.length });

/** The vectors: everything else is derived. */
const SPECS = [
  {
    name: "empty",
    description: "Empty plaintext: one final segment of 32 bytes. Smallest segment length (ENC_SEG_LEN = 64). Empty context.",
    segmentSize: 32,
    context: {},
    keys: [{ keyName: "datasets/raw", keyVersion: 1 }],
    plaintext: Buffer.alloc(0),
  },
  {
    name: "one-segment",
    description: "16-byte plaintext in one short final segment, default segment size (65536). One context pair.",
    segmentSize: 65536,
    context: { dataset: "raw" },
    keys: [{ keyName: "datasets/raw", keyVersion: 7 }],
    plaintext: Buffer.from("hello, pipeseal\n", "utf8"),
  },
  {
    name: "multi-segment-short-final",
    description: "200 bytes at 64 bytes per segment: three full non-final segments and a final one carrying 8 bytes.",
    segmentSize: 64,
    context: { stage: "train", run: "42" },
    keys: [{ keyName: "models/llm-ft", keyVersion: 2 }],
    plaintext: Buffer.from(Array.from({ length: 200 }, (_, i) => i & 0xff)),
  },
  {
    name: "aligned-final-full",
    description: "128 bytes at 64 bytes per segment: the final segment is full (ENC_SEG_LEN bytes); no empty segment follows.",
    segmentSize: 64,
    context: { shard: "0001" },
    keys: [{ keyName: "datasets/raw", keyVersion: 1 }],
    plaintext: Buffer.from(Array.from({ length: 128 }, (_, i) => (255 - i) & 0xff)),
  },
  {
    name: "utf8-context-two-keys",
    description:
      "Five-pair context with non-ASCII UTF-8 values, given out of order (the encoding sorts keys by byte: 'Z' < 'a'); " +
      "the data key wrapped under two key names with different KEKs (one at version 2^32-1). UTF-8 plaintext, 2 segments (64 + 10 bytes).",
    segmentSize: 64,
    context: { purpose: "fine-tune 微调", dataset: "café/données-2024", owner: "Zoë Ångström", "a.b:c-d_E": "", Z: "🔐" },
    keys: [
      { keyName: "team/alpha", keyVersion: 3 },
      { keyName: "escrow/recovery", keyVersion: 4294967295 },
    ],
    plaintext: Buffer.from("Ceci n'est pas une pipe. これはパイプではない。 🚰 (74 bytes)", "utf8"),
  },
];

function build(spec) {
  const keyringId = "local";
  const keys = spec.keys.map((k, i) => ({
    keyring: keyringId,
    ...k,
    kek: derive(spec.name, `kek/${i}`, 32),
    wrapIv: derive(spec.name, `wrap-iv/${i}`, 12),
  }));
  const dataKey = derive(spec.name, "data-key", 32);
  const floeIv = derive(spec.name, "floe-iv", 32);
  const segCount = Math.max(1, Math.ceil(spec.plaintext.length / spec.segmentSize));
  const segmentIvs = Array.from({ length: segCount }, (_, i) => derive(spec.name, `segment-iv/${i}`, 12));
  return { spec, keyringId, keys, dataKey, floeIv, segmentIvs };
}

async function generate(v) {
  const { spec, keyringId, keys } = v;
  const wrapAads = [];
  const keyring = {
    id: keyringId,
    async wrap(keyName, dataKey, context, objectId) {
      if (!objectId) throw new Error("a v2 seal wraps with the object id");
      const k = keys.find((x) => x.keyName === keyName);
      const aad = wrapAad(keyringId, keyName, k.keyVersion, context, objectId);
      wrapAads.push(aad);
      return { keyring: keyringId, keyName, keyVersion: k.keyVersion, wrapped: sealDataKey(k.kek, aad, dataKey) };
    },
    async unwrap() {
      throw new Error("not used");
    },
    async rewrap() {
      throw new Error("not used");
    },
  };
  queue = [
    fixed("data key", v.dataKey),
    fixed("FLOE IV", v.floeIv),
    ...keys.map((k, i) => fixed(`wrap IV ${i}`, k.wrapIv)),
    ...v.segmentIvs.map((iv, i) => fixed(`segment IV ${i}`, iv)),
  ];
  const file = await sealBuffer(keyring, spec.plaintext, { keyName: keys.map((k) => k.keyName), context: spec.context, segmentSize: spec.segmentSize });
  if (queue.length !== 0) throw new Error(`${spec.name}: ${queue.length} fixed random values were not drawn`);
  const header = decodeHeader(file);
  const fixedLen = header.fixedPart.length;
  const keyBlock = file.subarray(fixedLen, header.length - header.floeHeader.length);
  const body = file.subarray(header.length);
  const encSegLen = spec.segmentSize + SEGMENT_OVERHEAD;
  return {
    name: spec.name,
    description: spec.description,
    inputs: {
      segmentSize: spec.segmentSize,
      context: spec.context,
      keys: keys.map((k) => ({
        keyring: k.keyring,
        keyName: k.keyName,
        keyVersion: k.keyVersion,
        kek: k.kek.toString("hex"),
        wrapIv: k.wrapIv.toString("hex"),
      })),
      dataKey: v.dataKey.toString("hex"),
      floeIv: v.floeIv.toString("hex"),
      segmentIvs: v.segmentIvs.map((b) => b.toString("hex")),
      plaintext: spec.plaintext.toString("hex"),
    },
    expected: {
      encSegLen,
      fixedPart: header.fixedPart.toString("hex"),
      floeAad: header.floeAad.toString("hex"),
      context: header.fixedPart.subarray(20).toString("hex"),
      objectId: headerHash(header),
      wrapAad: wrapAads.map((b) => b.toString("hex")),
      wrapped: header.wrappedKeys.map((k) => Buffer.from(k.wrapped).toString("hex")),
      entryDigests: header.wrappedKeys.map((k) => entryDigest(k.keyring, k.keyName, k.keyVersion, k.wrapped).toString("hex")),
      blockKey: blockKey(v.dataKey, header.objectId).toString("hex"),
      tags: header.wrappedKeys.map((k) => Buffer.from(k.tag).toString("hex")),
      keyBlock: keyBlock.toString("hex"),
      floeHeader: header.floeHeader.toString("hex"),
      headerLength: header.length,
      segmentCount: v.segmentIvs.length,
      plaintextLength: spec.plaintext.length,
      body: body.toString("hex"),
      file: file.toString("hex"),
    },
  };
}

mkdirSync(outDir, { recursive: true });
for (const spec of SPECS) {
  const vector = await generate(build(spec));
  const file = path.join(outDir, `${spec.name}.json`);
  writeFileSync(file, JSON.stringify(vector, null, 2) + "\n");
  console.log(`${path.relative(root, file)}: ${vector.expected.file.length / 2} bytes`);
}
