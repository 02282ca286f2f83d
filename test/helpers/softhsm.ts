/**
 * A throwaway SoftHSM2 token for tests: a temp folder holding the token store and a
 * `softhsm2.conf` that points at it, selected through SOFTHSM2_CONF (set on process.env so
 * the PKCS#11 module loaded in this process sees it, and passed to spawned CLIs).
 *
 * SoftHSM2 reads SOFTHSM2_CONF when the module is initialised (C_Initialize), so every
 * token a test file needs must be created before the first keystore of that file opens
 * the module (or after every handle was closed, which finalises it).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const SOFTHSM_MODULE =
  process.env.PIPESEAL_TEST_PKCS11_MODULE ??
  firstExisting([
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
  ]);

/** True when the module and softhsm2-util are installed (tests are skipped otherwise, with a reason). */
export function softhsmAvailable(): boolean {
  if (SOFTHSM_MODULE === undefined) return false;
  try {
    execFileSync("softhsm2-util", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface SoftHsm {
  /** The temp folder (token store and config). */
  readonly dir: string;
  /** Path of the softhsm2.conf; also set as process.env.SOFTHSM2_CONF. */
  readonly conf: string;
  readonly module: string;
  /** Initialises a token in the first free slot. */
  initToken(label: string, pin?: string, soPin?: string): void;
  /** Environment for a spawned process that must see the same tokens. */
  env(): NodeJS.ProcessEnv;
  /** Removes the folder and restores SOFTHSM2_CONF. */
  cleanup(): void;
}

/** Creates the token store; call `initToken` for each token, `cleanup` in afterAll. */
export function createSoftHsm(): SoftHsm {
  if (SOFTHSM_MODULE === undefined) throw new Error("SoftHSM2 is not installed (apt-get install softhsm2)");
  const module = SOFTHSM_MODULE;
  const dir = mkdtempSync(path.join(tmpdir(), "pipeseal-softhsm-"));
  const tokens = path.join(dir, "tokens");
  mkdirSync(tokens, { mode: 0o700 });
  const conf = path.join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    conf,
    module,
    initToken(label: string, pin = "1234", soPin = "5678") {
      execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", pin], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: ["ignore", "ignore", "pipe"],
      });
    },
    env() {
      return { ...process.env, SOFTHSM2_CONF: conf };
    },
    cleanup() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}
