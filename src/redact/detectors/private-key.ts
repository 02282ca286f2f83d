/**
 * Private key blocks: PEM (`-----BEGIN [RSA |EC |DSA |ENCRYPTED ]PRIVATE KEY-----`), OpenSSH and
 * PGP. The whole block is one finding. A BEGIN line without its END in the same text (a
 * block split across log lines) is reported from BEGIN to the end of the text.
 * END markers are looked up once per label, so many BEGINs cannot make the search quadratic.
 */
import type { Detector, Finding } from "../types.js";

const BEGIN = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g;

export function privateKeyDetector(): Detector {
  const re = new RegExp(BEGIN.source, "g");
  return {
    id: "private-key",
    kind: "secret",
    label: "PRIVATE_KEY",
    find(text: string): Finding[] {
      if (!text.includes("-----BEGIN ")) return [];
      const out: Finding[] = [];
      const nextEnd = new Map<string, number>();
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const label = m[1];
        const endMarker = `-----END ${label}-----`;
        let at = nextEnd.get(label);
        if (at === undefined || (at >= 0 && at < m.index)) {
          at = text.indexOf(endMarker, m.index);
          nextEnd.set(label, at);
        }
        const end = at >= 0 ? at + endMarker.length : text.length;
        out.push({
          detector: "private-key",
          kind: "secret",
          label: "PRIVATE_KEY",
          start: m.index,
          end,
          confidence: at >= 0 ? 0.99 : 0.9,
          explanation: at >= 0 ? `${label} block` : `${label} block (no END marker in this text)`,
        });
        re.lastIndex = end;
      }
      return out;
    },
  };
}
