// AWS Encryption SDK for JavaScript peer, run in its own Node process.
// Usage: node bench/workers/aws.js <enc|dec> <keyFile> <in> <out> [frameLength]
// Prints one JSON line on stdout: { seconds, bytes, maxRssKiB }.
// Timing covers only the streaming pipeline (module load and keyring set-up excluded).
import { readFileSync, statSync, createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";

const [mode, keyFile, inPath, outPath, frameArg] = process.argv.slice(2);
let sdk;
try {
  sdk = await import("@aws-crypto/client-node");
} catch (e) {
  process.stderr.write(`@aws-crypto/client-node not installed: ${e.message}\n`);
  process.exit(3);
}
const { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, AlgorithmSuiteIdentifier } = sdk;

const { encryptStream, decryptUnsignedMessageStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const keyring = new RawAesKeyringNode({
  keyNamespace: "pipeseal-bench",
  keyName: "aes256-wrapping-key",
  unencryptedMasterKey: new Uint8Array(readFileSync(keyFile)),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});

const HWM = 1 << 20;
const frameLength = frameArg ? Number(frameArg) : undefined;
let transform;
if (mode === "enc") {
  transform = encryptStream(keyring, {
    suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    encryptionContext: { stage: "bench" },
    ...(frameLength ? { frameLength } : {}),
  });
} else if (mode === "dec") {
  transform = decryptUnsignedMessageStream(keyring);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
let outBytes = 0;
transform.on("data", (chunk) => {
  outBytes += chunk.length;
});
const t0 = process.hrtime.bigint();
await pipeline(createReadStream(inPath, { highWaterMark: HWM }), transform, createWriteStream(outPath));
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
// Throughput is always per plaintext byte.
const bytes = mode === "enc" ? statSync(inPath).size : outBytes;
process.stdout.write(JSON.stringify({ seconds, bytes, maxRssKiB: process.resourceUsage().maxRSS }) + "\n");
