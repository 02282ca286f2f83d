import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseFieldPolicy, type FieldPolicy } from "../../src/fields/index.js";

export const POLICY_YAML = `version: 1
key: pii
recordId: id
rules:
  - { field: email, action: deterministic }
  - { field: card, action: tokenize, key: tok, keepLast: 4 }
  - { field: ssn, action: encrypt }
  - { field: "addr[*].street", action: encrypt }
  - { field: name, action: pseudonymize, length: 12 }
  - { field: phone, action: mask, keepLast: 2 }
  - { field: secret, action: drop }
  - { field: n, action: tokenize, key: tok }
`;

export const FLAT_YAML = POLICY_YAML.replace(`  - { field: "addr[*].street", action: encrypt }\n`, "");

export function policy(yaml = POLICY_YAML): FieldPolicy {
  return parseFieldPolicy(yaml, "test.yaml");
}

export function writePolicy(dir: string, yaml = POLICY_YAML): string {
  const p = path.join(dir, "fields.yaml");
  writeFileSync(p, yaml);
  return p;
}

export { prng } from "../helpers/prng.js";

export const sample = [
  {
    id: "a1",
    email: "ann@example.com",
    card: "4111-1111-1111-1234",
    ssn: "123-45-6789",
    addr: [{ street: "1 Main St" }, { street: "2 Élysée 😀" }],
    name: "Ann",
    phone: "+1 555 1234",
    secret: "s",
    n: 12345678,
    other: true,
  },
  { id: "a2", email: "ann@example.com", card: "5500000000000004", ssn: 123456789, name: "Bob", phone: "555 0000", n: 9007199254740991 },
];
export const flatSample = [
  {
    id: "a1",
    email: "ann@example.com",
    card: "4111-1111-1111-1234",
    ssn: "123-45-6789",
    name: "Ann",
    phone: "+1 555 1234",
    secret: "s",
    n: "12345678",
    other: "x",
  },
  {
    id: "a2",
    email: "ann@example.com",
    card: "5500000000000004",
    ssn: "123456789",
    name: "Bob",
    phone: "555 0000",
    secret: "t",
    n: "90071992547409",
    other: "y",
  },
];
