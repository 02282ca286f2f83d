/**
 * Key-block attacks on a sealed file v2 (issue 19 part 1), written as byte edits on a real
 * file: each returns a file an attacker without any key could make. Used by the attack
 * suites through the library, the built CLI and the key service (each asserting that no key
 * is released and no `ok` unwrap is recorded).
 */
import { decodeHeader, encodeKeyBlock } from "../../src/envelope/header.js";
import type { WrappedKey } from "../../src/keys/keyring.js";

type Entry = { keyring: string; keyName: string; keyVersion: number; wrapped: Uint8Array; tag: Uint8Array };

function entriesOf(file: Buffer): Entry[] {
  return decodeHeader(file).wrappedKeys.map((e: WrappedKey) => ({
    keyring: e.keyring,
    keyName: e.keyName,
    keyVersion: e.keyVersion,
    wrapped: Buffer.from(e.wrapped),
    tag: Buffer.from(e.tag!),
  }));
}

/** The file with its key block replaced by `entries` (fixed part, FLOE header and body kept). */
export function withEntries(file: Buffer, entries: readonly Entry[]): Buffer {
  const h = decodeHeader(file);
  return Buffer.concat([h.fixedPart, encodeKeyBlock(entries, h.formatVersion), h.floeHeader, file.subarray(h.length)]);
}

export interface Attack {
  readonly name: string;
  /** The attacked file. */
  readonly file: Buffer;
  /** The code opening it must fail with, when one is certain (KEY_BLOCK_INVALID for a block whose used entry still opens). */
  readonly code?: string;
}

/**
 * Every attack on `victim` (sealed v2 with two entries of the opener's keyring: index 0 and
 * 1) given `other`, a second file sealed under the same keys and context. `retarget` names a
 * key and a version (other than the first entry's) that exist in the keyring, to point an entry at.
 */
export function keyBlockAttacks(victim: Buffer, other: Buffer, retarget: { keyName: string; keyVersion: number }): Attack[] {
  const v = entriesOf(victim);
  const o = entriesOf(other);
  if (v.length !== 2 || o.length !== 2) throw new Error("the attacks need two entries in each file");
  const flip = (b: Uint8Array, at: number) => {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ 0x01;
    return c;
  };
  const attacks: Attack[] = [
    { name: "another file's key block (same keys, same context)", file: withEntries(victim, o) },
    { name: "another file's entry in place of the first", file: withEntries(victim, [o[0]!, v[1]!]) },
    {
      name: "another file's entry, with the victim's tags",
      file: withEntries(victim, [
        { ...o[0]!, tag: v[0]!.tag },
        { ...o[1]!, tag: v[1]!.tag },
      ]),
    },
    { name: "second entry removed", file: withEntries(victim, [v[0]!]), code: "KEY_BLOCK_INVALID" },
    { name: "first entry removed", file: withEntries(victim, [v[1]!]), code: "KEY_BLOCK_INVALID" },
    { name: "an entry added (from another file)", file: withEntries(victim, [v[0]!, v[1]!, o[0]!]), code: "KEY_BLOCK_INVALID" },
    { name: "an entry duplicated", file: withEntries(victim, [v[0]!, v[0]!, v[1]!]), code: "KEY_BLOCK_INVALID" },
    { name: "the entries reordered", file: withEntries(victim, [v[1]!, v[0]!]), code: "KEY_BLOCK_INVALID" },
    { name: "the unused entry's keyring id changed", file: withEntries(victim, [v[0]!, { ...v[1]!, keyring: "ks:elsewhere" }]), code: "KEY_BLOCK_INVALID" },
    { name: "the unused entry's key name changed", file: withEntries(victim, [v[0]!, { ...v[1]!, keyName: retarget.keyName }]), code: "KEY_BLOCK_INVALID" },
    {
      name: "the unused entry's version changed",
      file: withEntries(victim, [v[0]!, { ...v[1]!, keyVersion: v[1]!.keyVersion + 1 }]),
      code: "KEY_BLOCK_INVALID",
    },
    {
      name: "the used entry's key name changed",
      file: withEntries(victim, [
        { ...v[0]!, keyName: retarget.keyName },
        { ...v[1]!, keyName: retarget.keyName },
      ]),
    },
    {
      name: "the used entry's version changed",
      file: withEntries(victim, [
        { ...v[0]!, keyVersion: retarget.keyVersion },
        { ...v[1]!, keyVersion: retarget.keyVersion },
      ]),
    },
    {
      name: "the unused entry's wrapped bytes corrupted",
      file: withEntries(victim, [v[0]!, { ...v[1]!, wrapped: flip(v[1]!.wrapped, 20) }]),
      code: "KEY_BLOCK_INVALID",
    },
    { name: "the unused entry's tag corrupted", file: withEntries(victim, [v[0]!, { ...v[1]!, tag: flip(v[1]!.tag, 0) }]), code: "KEY_BLOCK_INVALID" },
    { name: "the used entry's tag corrupted", file: withEntries(victim, [{ ...v[0]!, tag: flip(v[0]!.tag, 31) }, v[1]!]), code: "KEY_BLOCK_INVALID" },
    { name: "the version byte downgraded to v1 (tags dropped)", file: downgraded(victim) },
  ];
  // an attack that changes nothing would pass vacuously
  for (const a of attacks) if (a.file.equals(victim)) throw new Error(`attack "${a.name}" leaves the file as it was (pick another retarget)`);
  return attacks;
}

/** The v2 file relabelled v1: version byte 01 and a v1 key block of the same wraps. */
export function downgraded(file: Buffer): Buffer {
  const h = decodeHeader(file);
  const fixed = Buffer.from(h.fixedPart);
  fixed[5] = 1;
  const v1 = h.wrappedKeys.map(({ keyring, keyName, keyVersion, wrapped }) => ({ keyring, keyName, keyVersion, wrapped }));
  return Buffer.concat([fixed, encodeKeyBlock(v1, 1), h.floeHeader, file.subarray(h.length)]);
}
