import { describe, expect, test } from "vitest";
import { BUILTIN_DETECTOR_IDS, builtinDetectors, detectAll, entropy, luhn, mod97 } from "../../src/redact/index.js";

/** [detector id, text, the exact value that must be found] */
const POSITIVES: Array<[string, string, string]> = [
  ["email", "contact bob.smith+ml@example.org today", "bob.smith+ml@example.org"],
  ["email", 'to: "Ann O\'Neil" <ann_oneil@mail.co.uk>', "ann_oneil@mail.co.uk"],
  ["phone", "call +1 415-555-0132 now", "+1 415-555-0132"],
  ["phone", "E.164 +447700900123 ok", "+447700900123"],
  ["phone", "+44 (0)20 7946 0958", "+44 (0)20 7946 0958"],
  ["phone", "office (415) 555-0199", "(415) 555-0199"],
  ["phone", "reach me at 212-555-0147.", "212-555-0147"],
  ["phone", "mobile: 07700 900123", "07700 900123"],
  ["phone", "Tel. 030 12345678", "030 12345678"],
  ["credit-card", "card 4539 1488 0343 6467 charged", "4539 1488 0343 6467"],
  ["credit-card", "pan=5425233430109903;", "5425233430109903"],
  ["credit-card", "amex 3456-789012-30000", "3456-789012-30000"],
  ["iban", "iban DE89 3704 0044 0532 0130 00 ok", "DE89 3704 0044 0532 0130 00"],
  ["iban", "GB82WEST12345698765432", "GB82WEST12345698765432"],
  ["us-ssn", "ssn 123-45-6788", "123-45-6788"],
  ["us-ssn", "SSN: 123456788", "123456788"],
  ["ip-address", "client 8.8.8.8 connected", "8.8.8.8"],
  ["ip-address", "from 10.1.2.3:443", "10.1.2.3"],
  ["ip-address", "peer [2001:db8::8a2e:370:7334]:443", "2001:db8::8a2e:370:7334"],
  ["date-of-birth", "dob: 1984-03-12", "1984-03-12"],
  ["date-of-birth", "Date of birth 12/03/1984", "12/03/1984"],
  ["date-of-birth", "born on March 3, 1984", "March 3, 1984"],
  ["aws-access-key-id", "id AKIAZ7Q3K4LMN5PQRS2T", "AKIAZ7Q3K4LMN5PQRS2T"],
  ["aws-access-key-id", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"],
  ["aws-secret-access-key", "aws_secret_access_key=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", "Zk3j9Qw8Xv2Lm5Np7Rt1Yb4Hc6Df0Gs8Ju3Ki9Oa"],
  ["github-token", "GH_TOKEN=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"],
  [
    "github-token",
    "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",
    "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",
  ],
  ["gitlab-token", "glpat-Ab3dEf6hIj9kLm2nOp5q", "glpat-Ab3dEf6hIj9kLm2nOp5q"],
  ["slack-token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"],
  [
    "slack-webhook",
    "hook https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/Xy12Ab34Cd56Ef78Gh90Ij12",
    "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/Xy12Ab34Cd56Ef78Gh90Ij12",
  ],
  ["stripe-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
  ["stripe-key", "rk_test_51Hx9aQ2eZvKYlo2C0abcdEFGH", "rk_test_51Hx9aQ2eZvKYlo2C0abcdEFGH"],
  ["google-api-key", "key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"],
  ["openai-key", "OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34"],
  ["openai-key", "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", "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"],
  ["anthropic-key", "sk-ant-api03-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34-AbCd", "sk-ant-api03-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34-AbCd"],
  ["huggingface-token", "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"],
  [
    "jwt",
    "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  ],
  [
    "private-key",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
  ],
  [
    "private-key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----",
  ],
  ["connection-string-password", "postgres://admin:S3cr3tP4ss@db.internal:5432/app", "S3cr3tP4ss"],
  ["connection-string-password", "Server=db;User Id=sa;Password=Tr0ub4dor&3;Database=x", "Tr0ub4dor&3"],
  ["generic-secret", 'api_key = "a8F3kQ9zL2mX7vB1nC5tR0yW4uE6iO"', "a8F3kQ9zL2mX7vB1nC5tR0yW4uE6iO"],
  ["generic-secret", "client_secret: 9f8Jk2Lq0Zx7Vb3Nm6Qw1Er5Ty", "9f8Jk2Lq0Zx7Vb3Nm6Qw1Er5Ty"],
  ["generic-secret", "DB_PASSWORD=hunter2Gr8!", "hunter2Gr8!"],
  ["generic-secret", "Authorization: Bearer q8Zr3Lk9Xv2Mn7Bt5Wc1Yp4Hs6Dj0Fg", "q8Zr3Lk9Xv2Mn7Bt5Wc1Yp4Hs6Dj0Fg"],
];

/** Look-alikes that must produce no finding at all. */
const NEGATIVES: Array<[string, string]> = [
  ["uuid", "request 550e8400-e29b-41d4-a716-446655440000 done"],
  ["git sha", "commit 3f2a9c1e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a"],
  ["sha256", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
  ["version string", "version: 1.2.3.4 build 2.10.0.1"],
  ["v-prefixed version", "release v1.22.3.4"],
  ["OID", "oid 1.3.6.1.4.1.311"],
  ["timestamp", "2024-06-01T12:30:45.123Z took 12:30:45"],
  ["order id", "order 5551234567 shipped"],
  ["digit run", "trace_id=4532015112830366123"],
  ["stripe test card in docs", "Use the test card 4242 4242 4242 4242 in the sandbox"],
  ["visa test card", "card 4111111111111111 (test)"],
  ["all same digits", "4444444444444444"],
  ["non-luhn", "4539148803436468"],
  ["bad iban", "DE89 3704 0044 0532 0130 01"],
  ["ssn bad area", "666-12-3456 and 000-12-3456 and 900-12-3456"],
  ["ssn advertising", "078-05-1120"],
  ["dob without label", "created 1984-03-12"],
  ["aws docs example", "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws"],
  ["secret without context", "blob Zk3j9Qw8Xv2Lm5Np7Rt1Yb4Hc6Df0Gs8Ju3Ki9Oa"],
  ["low-entropy secret", 'secret_name: "database-credentials-prod"'],
  ["env reference", "api_key = os.environ['API_KEY'] token=${GITHUB_TOKEN}"],
  ["code, not a value", "tokenizer = AutoTokenizer.from_pretrained(name); max_tokens: 4096"],
  ["password placeholder", "postgres://user:****@db:5432/x and mysql://root:${DB_PASS}@h/x"],
  ["git remote", "git@github.com:org/repo.git"],
  ["npm scope", "@types/node@20.1.0"],
  ["loopback", "listening on 127.0.0.1:8080 and 0.0.0.0"],
  ["mac address", "mac 00:1a:2b:3c:4d:5e"],
  ["python slice", "x = a[1::2]"],
  ["hf function", "hf_hub_download(repo_id)"],
  ["base64 image", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="],
  ["jwt-looking junk", "eyJub3RqdzA.eyJhYmMiOjF9.abc"],
  ["placeholder key", "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
  ["semver", "pkg@1.2.3 node 20.11.1"],
];

describe("built-in detectors", () => {
  test("every id is in the list once", () => {
    const ids = builtinDetectors().map((d) => d.id);
    expect(ids).toEqual([...BUILTIN_DETECTOR_IDS]);
  });

  test.each(POSITIVES)("%s finds its value in %j", (id, text, value) => {
    const found = detectAll(text);
    const hit = found.find((f) => text.slice(f.start, f.end) === value);
    expect(hit, JSON.stringify(found)).toBeDefined();
    expect(hit!.detector).toBe(id);
    expect(hit!.confidence).toBeGreaterThanOrEqual(0.5);
    expect(hit!.explanation.length).toBeGreaterThan(0);
    expect(hit!.explanation).not.toContain(value);
  });

  test.each(NEGATIVES)("%s: no finding", (_name, text) => {
    const found = detectAll(text);
    expect(found.map((f) => `${f.detector}:${text.slice(f.start, f.end)}`)).toEqual([]);
  });

  test("each built-in detector has at least one positive test", () => {
    const covered = new Set(POSITIVES.map((p) => p[0]));
    for (const id of BUILTIN_DETECTOR_IDS) expect(covered.has(id), id).toBe(true);
  });

  test("overlaps: longest wins, then most confident", () => {
    const text = "aws_secret_access_key=Zk3j9Qw8Xv2Lm5Np7Rt1Yb4Hc6Df0Gs8Ju3Ki9Oa";
    const found = detectAll(text);
    expect(found).toHaveLength(1);
    expect(found[0]!.detector).toBe("aws-secret-access-key");
  });

  test("findings are in order and disjoint", () => {
    const text = "a@b.example.com +14155550132 8.8.8.8 4539 1488 0343 6467 ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    const found = detectAll(text);
    expect(found.length).toBe(5);
    for (let i = 1; i < found.length; i++) expect(found[i]!.start).toBeGreaterThanOrEqual(found[i - 1]!.end);
  });

  test("documentation examples and test cards are found below the threshold", () => {
    const low = detectAll("AKIAIOSFODNN7EXAMPLE 4242424242424242", undefined, { minConfidence: 0 });
    expect(low.map((f) => f.detector)).toEqual(["aws-access-key-id", "credit-card"]);
    expect(low.every((f) => f.confidence < 0.5)).toBe(true);
  });

  test("validators", () => {
    expect(luhn("4539148803436467")).toBe(true);
    expect(luhn("4539148803436468")).toBe(false);
    expect(mod97("GB82WEST12345698765432")).toBe(true);
    expect(mod97("GB83WEST12345698765432")).toBe(false);
    expect(entropy("aaaa")).toBe(0);
    expect(entropy("abcd")).toBe(2);
  });
});
