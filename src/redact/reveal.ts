/**
 * Reveal: opens `[ENC:…]` tokens written by the encrypt operator, through a keyring that
 * audits every unwrap (fail closed: no audit record, no plaintext).
 */
import { openBuffer } from "../envelope/buffer.js";
import type { Keyring } from "../keys/keyring.js";
import { isJsonLine } from "./json-spans.js";
import { ENC_TOKEN } from "./operators.js";

/**
 * Replaces every `[ENC:…]` token in a line with its plaintext (JSON-escaped inside JSON lines).
 * @throws DecryptError, KeyError, AuditError from the keyring; FormatError for a damaged token.
 */
export async function revealLine(keyring: Keyring, line: string, path?: string): Promise<string> {
  if (!line.includes("[ENC:")) return line;
  const json = isJsonLine(line);
  const re = new RegExp(ENC_TOKEN.source, "g");
  let out = "";
  let at = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const plain = (await openBuffer(keyring, Buffer.from(m[1], "base64url"), path === undefined ? {} : { path })).toString("utf8");
    out += line.slice(at, m.index) + (json ? JSON.stringify(plain).slice(1, -1) : plain);
    at = m.index + m[0].length;
  }
  return out + line.slice(at);
}
