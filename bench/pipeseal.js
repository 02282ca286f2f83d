// The ONE place that knows pipeseal's API names and CLI flags.
// If the library or CLI surface changes, adapt here only.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// bin.js is the executable users run (it starts encrypt/decrypt without loading every command)
export const CLI = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
const INDEX = new URL("../dist/index.js", import.meta.url);

export const KEY_NAME = "bench/k";
export const CONTEXT = { stage: "bench" };

/** CLI argv builders (after `node dist/cli/main.js`). Keystore home comes from env PIPESEAL_HOME. */
export const cli = {
  init: () => ["init"],
  keyCreate: (name = KEY_NAME) => ["key", "create", name],
  // out "-" = stdout. The harness sends stdout to /dev/null for the "→ /dev/null" figures,
  // so that no tool ever gets a chance to rename a temp file over /dev/null.
  encrypt: (inp, out) => ["encrypt", "--key", KEY_NAME, "--context", "stage=bench", inp, "-o", out],
  decrypt: (inp, out) => ["decrypt", inp, "-o", out],
  range: (inp, off, len) => ["decrypt", "--range", `${off}:${len}`, inp, "-o", "-"],
};

/** Is the built pipeseal there, with the API this harness needs? */
export async function probe() {
  if (!existsSync(CLI) || !existsSync(fileURLToPath(INDEX))) {
    return { ok: false, reason: "dist/cli/main.js or dist/index.js missing (run `npm run build`)" };
  }
  try {
    const m = await import(INDEX.href);
    const missing = ["openKeystore", "encryptFile", "decryptFile", "openSealedFile"].filter((n) => typeof m[n] !== "function");
    if (missing.length) return { ok: false, reason: `dist/index.js lacks ${missing.join(", ")}` };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `cannot import dist/index.js: ${e.message}` };
  }
}

/**
 * In-process library surface, used by bench/workers/pipeseal.js.
 * engine "inline" (the default: the calling thread) or "pool" (a WorkerPool of 2 threads).
 */
export async function loadLib(home, engineName = "inline") {
  const m = await import(INDEX.href);
  const keyring = await m.openKeystore(home);
  let engine;
  if (engineName === "pool") {
    engine = new m.WorkerPool(2);
  }
  const eng = engine ? { engine } : {};
  return {
    keyring,
    encrypt: (inPath, outPath, segmentLength) =>
      m.encryptFile(keyring, inPath, outPath, {
        keyName: KEY_NAME,
        context: CONTEXT,
        ...eng,
        ...(segmentLength ? { segmentSize: segmentLength } : {}),
      }),
    decrypt: (inPath, outPath) => m.decryptFile(keyring, inPath, outPath, { ...eng }),
    open: async (path) => {
      const r = await m.openSealedFile(keyring, path);
      return { read: (off, len) => r.read(off, len), close: () => r.close() };
    },
    close: async () => {
      if (engine && typeof engine.close === "function") await engine.close();
      if (keyring && typeof keyring.close === "function") await keyring.close();
    },
  };
}

/**
 * The segment engines, for the in-process seal/open figures (bench/workers/engine.js):
 * `native` is the addon over the system's OpenSSL (undefined when not built), `reference`
 * node:crypto. Batches are { data, first, count, final } of whole FLOE segments.
 */
export async function loadEngines() {
  const floe = await import(new URL("../dist/crypto/floe.js", import.meta.url).href);
  const native = await import(new URL("../dist/engine/native.js", import.meta.url).href);
  const reference = await import(new URL("../dist/engine/reference.js", import.meta.url).href);
  const index = await import(new URL("../dist/engine/index.js", import.meta.url).href);
  return {
    SEGMENT_OVERHEAD: floe.SEGMENT_OVERHEAD,
    startEncryption: floe.startEncryption,
    addon: native.nativeAddon(),
    description: index.engineDescription(),
    referenceSeal: reference.encryptBatch,
    referenceOpen: reference.decryptBatch,
  };
}
