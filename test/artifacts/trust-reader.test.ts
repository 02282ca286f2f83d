/** Trust files through the strict reader: each mistake at its line and column, no value echoed. */
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ArtifactError } from "../../src/artifacts/errors.js";
import { loadTrustFile } from "../../src/artifacts/trust.js";
import { tempDir } from "../helpers/keystore.js";
import { expectMessage, refusalOf } from "../helpers/reader-error.js";

const SECRET = "ghp_0123456789abcdefSECRETtoken";

function refusal(text: string): string {
  const file = path.join(tempDir(), "trust.yaml");
  writeFileSync(file, text);
  return refusalOf(() => loadTrustFile(file), ArtifactError).replace(file, "trust.yaml");
}

describe("trust file reader", () => {
  it("reads keys inline and from files relative to the trust file", () => {
    const dir = tempDir();
    const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    writeFileSync(path.join(dir, "a.pem"), pem);
    writeFileSync(path.join(dir, "trust.yaml"), `models:\n  churn: [a.pem]\n  "*":\n    - |\n${pem.trim().replace(/^/gm, "      ")}\n`);
    const trust = loadTrustFile(path.join(dir, "trust.yaml"));
    expect(trust.keysFor("churn").map((k) => k.source)).toEqual(["inline", "inline"]);
    expect(trust.keysFor("other")).toHaveLength(1);
  });

  it.each([
    ["no models", "signers: {}\n", 'trust file trust.yaml:1:1: signers: unknown key "signers" (allowed: models)'],
    ["an empty file", "", "trust file trust.yaml:1:1: must be a mapping"],
    ["models as a list", "models: [a.pem]\n", "trust file trust.yaml:1:9: models: must be a mapping"],
    ["one key instead of a list", "models:\n  churn: a.pem\n", "trust file trust.yaml:2:10: models.churn: must be a list"],
    ["a number among the keys", "models:\n  churn: [a.pem, 7]\n", "trust file trust.yaml:2:18: models.churn[1]: must be a string"],
    ["a key file that is not there", "models:\n  churn:\n    - missing.pem\n", "trust file trust.yaml:3:7: models.churn[0]: cannot read this key file"],
    ["a syntax error", "models:\n  churn: [a.pem\n", /^trust file trust\.yaml:\d+:\d+: YAML: /],
  ])("refuses %s, at the node at fault", (_what, text, expected) => {
    expectMessage(refusal(text), expected);
  });

  it("never echoes a value from the file", () => {
    for (const text of [`models:\n  churn: ${SECRET}\n`, `models:\n  churn: [${SECRET}.pem]\n`, `models: ${SECRET}\n`, `models:\n  churn: [${SECRET}\n`]) {
      expect(refusal(text)).not.toContain("SECRET");
    }
  });
});
