/**
 * The environment a `run` child starts from. With `pristine`, only the allowed variables;
 * otherwise the parent's, minus every variable whose value the scanner's detectors classify
 * as a secret (a stray `OPENAI_API_KEY` in the shell should not ride along to every child),
 * minus pipeseal's own credentials. What is dropped is reported by name, never by value.
 */
import { detectAll } from "../redact/detect.js";
import { builtinDetectors } from "../redact/detectors/index.js";
import type { Detector } from "../redact/types.js";

/** pipeseal's own credentials: never passed to a child. */
const PIPESEAL_CREDENTIALS = ["PIPESEAL_TOKEN", "PIPESEAL_PASSPHRASE", "PIPESEAL_PKCS11_PIN"];

/** The variables `--pristine` keeps when no `--env-allow` is given. */
export const DEFAULT_ENV_ALLOW = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TERM", "TZ", "TMPDIR"];

export interface BaseEnv {
  readonly env: Record<string, string>;
  /** Names dropped because their value looked like a secret (or was a pipeseal credential). */
  readonly dropped: string[];
}

let detectors: readonly Detector[] | undefined;

/** Whether the scanner classifies `value` (as the value of `name`) as a secret. */
export function looksSecret(name: string, value: string): boolean {
  if (value.length < 8) return false;
  const line = `${name}=${value}`;
  const offset = name.length + 1;
  return detectAll(line, (detectors ??= builtinDetectors().filter((d) => d.kind === "secret"))).some((f) => f.kind === "secret" && f.end > offset);
}

export function baseEnv(parent: NodeJS.ProcessEnv, options: { pristine: boolean; allow: readonly string[] }): BaseEnv {
  const env: Record<string, string> = {};
  const dropped: string[] = [];
  if (options.pristine) {
    for (const name of options.allow) {
      const v = parent[name];
      if (v !== undefined && !PIPESEAL_CREDENTIALS.includes(name)) env[name] = v;
    }
    return { env, dropped };
  }
  for (const [name, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (PIPESEAL_CREDENTIALS.includes(name) || looksSecret(name, v)) dropped.push(name);
    else env[name] = v;
  }
  return { env, dropped };
}
