import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { FLOE_HEADER_LEN, SEGMENT_OVERHEAD } from "../crypto/floe.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { LIMITS } from "./header.js";
import { Pull } from "./stream-head.js";
import { readHeader } from "./open.js";
import { headerHash } from "./unlock.js";

export interface SealedInfo {
  readonly formatVersion: number;
  readonly keys: readonly { keyring: string; keyName: string; keyVersion: number }[];
  readonly context: EncryptionContext;
  readonly segmentSize: number;
  readonly encryptedSegmentSize: number;
  readonly headerLength: number;
  /** The object id used in audit records: SHA-256 of the FLOE AAD and FLOE header (docs/format.md §9). */
  readonly headerHash: string;
  readonly fileSize: number;
  readonly segmentCount: number;
  /** From the file size; authenticated only when the file is opened with its key. */
  readonly plaintextLength: number;
}

/**
 * Describes a sealed file from its header alone; needs no key and writes no audit record.
 * @throws FormatError when the file is not a well-formed sealed file.
 */
export async function inspectFile(path: string): Promise<SealedInfo> {
  const fileSize = (await stat(path)).size;
  const maxHeader = LIMITS.maxFixedPart + LIMITS.maxKeyBlock + FLOE_HEADER_LEN;
  const header = await readHeader(new Pull(createReadStream(path, { end: maxHeader - 1 })));
  {
    const body = fileSize - header.length;
    const segmentCount = Math.max(1, Math.ceil(body / header.encSegLen));
    const plain = header.encSegLen - SEGMENT_OVERHEAD;
    return {
      formatVersion: header.formatVersion,
      keys: header.wrappedKeys.map(({ keyring, keyName, keyVersion }) => ({ keyring, keyName, keyVersion })),
      context: header.context,
      segmentSize: plain,
      encryptedSegmentSize: header.encSegLen,
      headerLength: header.length,
      headerHash: headerHash(header),
      fileSize,
      segmentCount,
      plaintextLength: Math.max(0, body - segmentCount * SEGMENT_OVERHEAD),
    };
  }
}
