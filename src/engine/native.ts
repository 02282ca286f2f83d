/**
 * Loads the native FLOE engine (native/floe.c, built by node-gyp at install into
 * build/Release/pipeseal_floe.node): AES-256-GCM and HKDF-Expand-SHA-384 from the system's
 * OpenSSL 3 libcrypto, which on CPUs with VAES/AVX-512 runs several times faster than the
 * OpenSSL bundled in Node. Loading never throws: a missing or broken addon, or
 * PIPESEAL_ENGINE=reference, leaves the reference engine (node:crypto) in charge, and
 * `loadStatus()` says why.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** What every seal and open call of the addon starts with: the file's FLOE state, then where the batch sits in it and its bytes. */
export type BatchArgs = [
  messageKey: Uint8Array,
  floeIv: Uint8Array,
  aad: Uint8Array,
  encSegLen: number,
  rotationMask: number,
  first: number,
  count: number,
  final: boolean,
  input: Uint8Array,
];

/** The addon's functions (native/floe.c). Positions and counts are plain numbers (< 2^53). */
export interface NativeAddon {
  /** Seals `count` segments from `first` into `output`; returns bytes written. */
  seal(...args: [...BatchArgs, output: Uint8Array, ivs: Uint8Array]): Promise<number>;
  sealSync(...args: [...BatchArgs, output: Uint8Array, ivs: Uint8Array]): number;
  /** Opens `count` segments into `output` (wiped unless every tag verifies); returns plaintext bytes. */
  open(...args: [...BatchArgs, output: Uint8Array]): Promise<number>;
  openSync(...args: [...BatchArgs, output: Uint8Array]): number;
  /** Reads until the buffer is full or the input ends (position < 0: the fd's own offset); returns bytes read. */
  readFull(fd: number, buffer: Uint8Array, position: number): Promise<number>;
  /** Writes the whole buffer (waits out a non-blocking fd); returns bytes written. */
  writeFull(fd: number, buffer: Uint8Array, position: number): Promise<number>;
  /** OPENSSL_cleanse over the buffer. */
  cleanse(buffer: Uint8Array): void;
  /** The libcrypto version string in use, e.g. "OpenSSL 3.0.22 …". */
  readonly openssl: string;
}

export interface LoadStatus {
  readonly addon: NativeAddon | undefined;
  /** Why the native engine is not in use (undefined when it is). */
  readonly reason: string | undefined;
  /** True when the reference engine was asked for (PIPESEAL_ENGINE=reference): nothing to warn about. */
  readonly forced: boolean;
}

/** build/Release beside dist/ (the package) or beside src/ (tests run from source): both are two levels below the root. */
export const ADDON_PATH = fileURLToPath(new URL("../../build/Release/pipeseal_floe.node", import.meta.url));

let status: LoadStatus | undefined;

function load(): LoadStatus {
  const wanted = process.env.PIPESEAL_ENGINE;
  if (wanted === "reference") return { addon: undefined, reason: "PIPESEAL_ENGINE=reference", forced: true };
  if (wanted !== undefined && wanted !== "" && wanted !== "native" && wanted !== "auto") {
    return { addon: undefined, reason: `PIPESEAL_ENGINE=${wanted} is not one of native, reference, auto`, forced: false };
  }
  // PIPESEAL_ADDON points elsewhere (packagers; tests of a machine where the addon is missing)
  const file = process.env.PIPESEAL_ADDON || ADDON_PATH;
  if (!existsSync(file)) return { addon: undefined, reason: "the native addon is not built (npm run build:native)", forced: false };
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    return { addon, reason: undefined, forced: false };
  } catch (e) {
    return { addon: undefined, reason: `the native addon did not load: ${(e as Error).message.split("\n")[0]}`, forced: false };
  }
}

/** The addon and why it is (not) in use; loaded once per process. */
export function loadStatus(): LoadStatus {
  status ??= load();
  return status;
}

/** The addon, or undefined when the reference engine is in use. */
export function nativeAddon(): NativeAddon | undefined {
  return loadStatus().addon;
}
