/**
 * Issue 23, the posture report's answers: a local keystore's "who can decrypt" says who
 * really can (anyone with its root and database), a file with several findings is one
 * plaintext row worded by what the file is, every store of the map appears under "which
 * keys" (S3 as not verified), fix texts show commands as code and ages as durations.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkPosture, keystoreSource, loadMap } from "../../src/posture/index.js";
import { renderHtml } from "../../src/posture/report/html.js";
import { buildPipeline, MAP_YAML, notebook } from "./pipeline.js";

describe("the four answers, in the words a reviewer needs", async () => {
  const p = await buildPipeline(true);
  const secrets = ["ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2", "ghp_" + "B1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R7s8"];
  writeFileSync(path.join(p.root, "notebooks/leaky.ipynb"), notebook([`a = "${secrets[0]}"`, `b = "${secrets[1]}"`, "mail = 'jane.doe@example.com'"]));
  // an S3 store the map names: posture cannot list it, and says so under "which keys"
  writeFileSync(
    p.mapFile,
    MAP_YAML.replace(
      "      - { id: archive,",
      '      - { id: s3-mirror, kind: s3, url: "s3://acme-ml/landing/", classification: pii, key: datasets/raw }\n      - { id: archive,',
    ),
  );
  const report = await checkPosture(await loadMap(p.mapFile), { keys: keystoreSource(p.ks, p.home), mapPath: p.mapFile });
  const page = renderHtml(report);
  // the answers section alone: assertions on it, and short failure messages
  const start = page.indexOf('<section id="answers">');
  const html = page.slice(start, page.indexOf("</section></section>", start));

  it("one plaintext row per file, however many findings, worded by where it was found", () => {
    const rows = report.answers.plaintext.filter((r) => r.location.endsWith("leaky.ipynb"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: "leak", detail: "2 secrets and 1 personal-data value in a notebook (cells or outputs)" });
    expect(html).toContain("2 secrets and 1 personal-data value in a notebook (cells or outputs)");
    expect(html).not.toContain("leaked into logs, notebooks or CI output");
  });

  it('every store of the map is under "which keys", an S3 one as not verified', () => {
    const stores = report.answers.keys.map((k) => k.store);
    for (const s of ["landing-raw", "archive", "training-sets", "models", "inference-logs", "s3-mirror"]) expect(stores).toContain(s);
    expect(report.answers.keys.find((k) => k.store === "s3-mirror")).toMatchObject({ verification: "unverified" });
    expect(html).toMatch(/<strong>s3-mirror<\/strong> \(Processing\): the map says it is sealed under <code>datasets\/raw<\/code>; <em>not verified<\/em>/);
  });

  it('a local keystore: anyone holding its root and database can decrypt (never "nobody")', () => {
    const access = report.answers.access.find((a) => a.key === "datasets/raw")!;
    expect(access.source).toBe("keystore");
    expect(html).toContain(
      "<strong>datasets/raw</strong>: can be decrypted by anyone who holds the local keystore's root key (master.key, its passphrase, or the HSM key and PIN) together with its database; there is no access policy. 1 decrypt (<code>tester</code> 1) and 0 denied attempts logged in the period; local principal names are asserted",
    );
    expect(html).not.toMatch(/can be decrypted by nobody \(from the keystore\)/);
  });

  it("fix texts render `commands` as code; ages read as durations", () => {
    expect(page).not.toMatch(/Fix:<\/strong>[^<]*`/);
    expect(page).toContain("<code>pipeseal redact</code>");
    expect(page).toMatch(/<th scope="row">age<\/th><td><span title="\d+ s">\d+ (days|h|min|s)<\/span>/);
  });
});
