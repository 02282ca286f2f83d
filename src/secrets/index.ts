/**
 * Secrets: a sealed, versioned secret store in the keystore, `runWithSecrets` that hands
 * secrets to one child process (environment or a private file) and masks them in its output,
 * and the streaming masker it uses. See docs/secrets.md.
 */
export { SecretStore, readPurpose, type ReadOptions, type SecretSource, type SecretValue } from "./store.js";
export type { SecretInfo, SecretVersionInfo } from "./info.js";
export type { SecretState } from "./rows.js";
export { MAX_SECRET_BYTES, SECRET_NAME_PATTERN, secretKeyName, validateSecretName } from "./names.js";
export { runWithSecrets, parseBinding, type RunOptions, type RunResult, type SecretBinding } from "./run.js";
export { StreamMasker, maskPatterns, type MaskPattern } from "./mask.js";
export { DEFAULT_ENV_ALLOW, looksSecret } from "./env.js";
