/**
 * Detection of PII and secrets in text: the contract shared by redaction (src/redact/) and the
 * scanner (src/scan/). A detector is pure: text in, findings out, no I/O, no state.
 */

export type FindingKind = "pii" | "secret";

/** One match. Offsets are UTF-16 indices into the text given to `find`. Never holds the matched text. */
export interface Finding {
  /** Stable detector id, e.g. "email", "aws-access-key-id". */
  readonly detector: string;
  readonly kind: FindingKind;
  /** Replacement label for `redact`, e.g. "EMAIL". */
  readonly label: string;
  readonly start: number;
  readonly end: number;
  /** 0..1: how sure the detector is (validators such as Luhn or mod-97 raise it). */
  readonly confidence: number;
  /** Why it matched, for humans (no secret material). */
  readonly explanation: string;
}

export interface Detector {
  readonly id: string;
  readonly kind: FindingKind;
  readonly label: string;
  /** All matches in `text`, in order of `start`. */
  find(text: string): Finding[];
}
