/**
 * Secret names and where each is sealed. A name is `namespace/rest` (`llm/openai`); its value
 * is wrapped by the keystore key `secrets/<namespace>`, so a namespace's secrets share one
 * rotatable, destroyable KEK and a policy can grant a namespace. A name without a slash is
 * in the `default` namespace.
 */
import { UsageError } from "../errors.js";

/** 1-4 `/`-separated segments of a-z 0-9 . _ -, each starting with a letter or digit; at most 128 characters. */
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}(?:\/[a-z0-9][a-z0-9._-]{0,63}){0,3}$/;

/** Largest value the store accepts: secrets are small (tokens, keys, a service-account JSON). */
export const MAX_SECRET_BYTES = 64 * 1024;

/** @throws UsageError(INVALID_ARGUMENT) unless `name` matches {@link SECRET_NAME_PATTERN}. */
export function validateSecretName(name: unknown): string {
  if (typeof name !== "string" || name.length > 128 || !SECRET_NAME_PATTERN.test(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new UsageError("INVALID_ARGUMENT", `invalid secret name ${shown}: use namespace/name, lowercase a-z 0-9 . _ - (e.g. llm/openai)`);
  }
  return name;
}

export function secretNamespace(name: string): string {
  const slash = name.indexOf("/");
  return slash === -1 ? "default" : name.slice(0, slash);
}

/** The keystore key that wraps the data keys of `name`'s namespace. */
export function secretKeyName(name: string): string {
  return `secrets/${secretNamespace(name)}`;
}

/** @throws UsageError(INVALID_ARGUMENT) unless a positive whole number. */
export function validateSecretVersion(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > 0xffffffff)
    throw new UsageError("INVALID_ARGUMENT", "a secret version must be a whole number from 1");
  return v;
}

/** @throws UsageError(INVALID_ARGUMENT) for an empty or too-large value. */
export function validateSecretValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length === 0) throw new UsageError("INVALID_ARGUMENT", "the secret value is empty");
  if (value.length > MAX_SECRET_BYTES)
    throw new UsageError("INVALID_ARGUMENT", `a secret value is at most ${MAX_SECRET_BYTES} bytes; seal larger data as a file (pipeseal encrypt)`);
}
