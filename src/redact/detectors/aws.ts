/**
 * AWS credentials. Access key ids: a four-letter type prefix (AKIA long-term, ASIA temporary,
 * …) and 16 base32 characters. Secret access keys: 40 base64 characters, reported only
 * near "aws" / "secret access key" context and with the entropy of random bytes (a 40-hex git SHA
 * never matches). AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`, `…EXAMPLEKEY`)
 * score 0.2, below the default threshold.
 */
import type { Detector } from "../types.js";
import { charClasses, contextBefore, entropy, looksLikePlaceholder, patternDetector } from "./util.js";

export function awsAccessKeyIdDetector(): Detector {
  return patternDetector({
    id: "aws-access-key-id",
    kind: "secret",
    label: "AWS_ACCESS_KEY_ID",
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA)[A-Z2-7]{16}(?![A-Za-z0-9])/g,
    confidence: 0.97,
    explanation: "AWS access key id (type prefix + 16 base32 characters)",
    validate: (v) =>
      looksLikePlaceholder(v) ? { confidence: 0.2, explanation: "AWS documentation example key id" } : { confidence: v.startsWith("ASIA") ? 0.95 : 0.97 },
  });
}

const SECRET_CONTEXT = /aws|amazon|secret[_ -]?access[_ -]?key|secretaccesskey/i;

export function awsSecretKeyDetector(): Detector {
  return patternDetector({
    id: "aws-secret-access-key",
    kind: "secret",
    label: "AWS_SECRET_KEY",
    pattern: /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    hint: (t) => SECRET_CONTEXT.test(t),
    confidence: 0.9,
    explanation: "40-character base64 value next to AWS secret-key context",
    validate(value, text, start) {
      if (!contextBefore(text, start, SECRET_CONTEXT, 64)) return null;
      if (charClasses(value) < 3 || entropy(value) < 4.2) return null;
      if (looksLikePlaceholder(value)) return { confidence: 0.2, explanation: "AWS documentation example secret key" };
      return { confidence: 0.9 };
    },
  });
}
