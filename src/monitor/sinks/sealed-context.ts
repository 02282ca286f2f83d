/** The encryption context of a sealed buffer, from its header (before opening it). */
import { readHeader } from "../../envelope/open.js";
import { Pull } from "../../envelope/stream-head.js";
import { once } from "../../io/atomic.js";
import type { EncryptionContext } from "../../keys/keyring.js";

/** @throws FormatError for a buffer that is not a sealed file. */
export async function sealedContext(sealed: Uint8Array): Promise<EncryptionContext> {
  return (await readHeader(new Pull(once(sealed)))).context;
}
