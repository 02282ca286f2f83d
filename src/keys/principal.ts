/** Who a keystore handle acts as when the caller does not say. Internal. */
import os from "node:os";

/** The given principal, else PIPESEAL_PRINCIPAL, else the OS user (else the uid): shared by init and open. */
export function defaultPrincipal(given: string | undefined): string {
  if (given !== undefined) return given;
  const fromEnv = process.env.PIPESEAL_PRINCIPAL;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    return os.userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? "unknown"}`;
  }
}
