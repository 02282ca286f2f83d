/**
 * pipeseal — end-to-end encryption for AI/ML pipelines.
 * The public surface: named exports only; internals stay private.
 */
export {
  ERROR_CODES,
  ERROR_REGISTRY,
  PipesealError,
  DecryptError,
  FormatError,
  KeyError,
  KeystoreError,
  AuditError,
  UsageError,
  EnvironmentError,
  createError,
  isPipesealError,
} from "./errors.js";
export type { ErrorCode } from "./errors.js";

export type { AuditObject, EncryptionContext, EntryBinding, EntryTarget, Keyring, WrappedKey } from "./keys/keyring.js";
export { encodeContext, normalizeContext, parseContextArg, CONTEXT_LIMITS } from "./keys/context.js";
export { LocalKeystore, initKeystore, openKeystore, MASTER_KEY_FILE, KEY_NAME_PATTERN } from "./keys/index.js";
export type { KeyInfo, KeyVersionInfo, KeyState, InitKeystoreOptions, OpenKeystoreOptions, CreateKeyOptions } from "./keys/index.js";
export { openAnchorWithPublicKey, anchoredFailure } from "./audit/index.js";
export type { AnchorEnvelope, AuditAnchor, AnchorCheck, AnchoredVerifyResult } from "./audit/index.js";

export { DEFAULT_SEGMENT_SIZE, sealStream, startSeal } from "./envelope/seal.js";
export type { SealOptions } from "./envelope/seal.js";
export { openStream } from "./envelope/open.js";
export type { OpenOptions } from "./envelope/open.js";
export { sealBuffer, openBuffer } from "./envelope/buffer.js";
export { sealTransform, openTransform } from "./envelope/duplex-streams.js";
export { encryptFile, decryptFile } from "./envelope/files.js";
// stop signals: a service embedding pipeseal calls installStopSignals (or removeLiveTempsSync from its own handlers) so an interrupted decryptFile leaves no plaintext temp
export { installStopSignals, onStopSignal, exitCodeForSignal } from "./io/signals.js";
export { removeLiveTempsSync, onStaleTempRemoved } from "./io/temp-files.js";
export { SealedFileReader, openSealedFile, type OpenSealedFileOptions } from "./envelope/reader.js";
export { rewrapFile } from "./envelope/rewrap.js";
export type { RewrapOptions, RewrapResult } from "./envelope/rewrap.js";
export { inspectFile } from "./envelope/inspect.js";
export type { SealedInfo } from "./envelope/inspect.js";
export { LIMITS, FORMAT_VERSION, READABLE_VERSIONS } from "./envelope/header.js";
export { inlineEngine } from "./envelope/engine.js";
export type { SegmentEngine } from "./envelope/engine.js";
export { WorkerPool, defaultEngine } from "./envelope/pool.js";
// the crypto engine in use (native over the system's OpenSSL, or node:crypto), as `pipeseal --version` names it (docs/engine.md)
export { engineDescription, segmentEngine, referenceEngine } from "./engine/index.js";
