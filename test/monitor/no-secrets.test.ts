import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { decodeHeader } from "../../src/envelope/header.js";
import { openKeystore } from "../../src/keys/index.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

// The attack: everything a monitor sees comes from a keystore that just decrypted a file. If
// any alert field carried the plaintext, the data key, the wrapped key or the master key, an
// alert sink (a webhook, syslog, a ticket) would leak it. Search every form of each secret.
test("alerts from a real keystore's audit hold no plaintext, data key, wrapped key or master key", async () => {
  const dir = tempDir();
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "mallory" };
  const run = (args: string[]) => {
    const r = cli(args, env);
    if (r.status !== 0 && r.status !== 8) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  run(["init"]);
  run(["key", "create", "prod/canary/customers"]);
  const plaintext = "ssn=078-05-1120,card=4111111111111111,PLAINTEXT-MARKER-7f3a\n".repeat(50);
  writeFileSync(path.join(dir, "customers.csv"), plaintext);
  run(["encrypt", "--key", "prod/canary/customers", "--context", "dataset=customers,stage=landing", path.join(dir, "customers.csv")]);
  const sealedPath = path.join(dir, "customers.csv.pseal");
  run(["decrypt", sealedPath, "-o", path.join(dir, "out.csv")]);
  const exportFile = path.join(dir, "audit.jsonl");
  run(["audit", "export", "-o", exportFile]);
  writeFileSync(path.join(dir, "monitor.yaml"), 'version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\n');
  const r = run(["monitor", "check", "--audit", exportFile, "--config", path.join(dir, "monitor.yaml"), "--json"]);
  expect(r.status).toBe(8);
  const out = r.stdout.toString("utf8");
  const alerts = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(alerts.map((a) => [a.detection, a.severity, a.principal])).toContainEqual(["honeytoken", "critical", "mallory"]);
  const table = run(["monitor", "check", "--audit", exportFile, "--config", path.join(dir, "monitor.yaml")]).stdout.toString("utf8");

  const header = decodeHeader(readFileSync(sealedPath));
  const entry = header.wrappedKeys[0]!;
  const ks = await openKeystore(env.PIPESEAL_HOME, { principal: "tester" });
  const dataKey = await ks.unwrap(entry, header.context, { operation: "test" });
  ks.close();
  const masterKey = readFileSync(path.join(env.PIPESEAL_HOME, "master.key"));
  const secrets: [string, Buffer][] = [
    ["data key", dataKey],
    ["wrapped key", Buffer.from(entry.wrapped)],
    ["master key file", masterKey],
  ];
  for (const text of [out, table]) {
    expect(text).not.toContain("PLAINTEXT-MARKER");
    expect(text).not.toContain("4111111111111111");
    for (const [what, bytes] of secrets) {
      for (const form of [bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("latin1").trim()]) {
        // any 12-character run of the secret's text form would be a leak
        for (let i = 0; i + 12 <= form.length; i += 6) expect(text.includes(form.slice(i, i + 12)), `${what} (${form.slice(0, 6)}…) in an alert`).toBe(false);
      }
    }
  }
}, 60_000);
