import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { probeTls, type CertificateInfo, type ProbeReport } from "../../pki/probe/index.js";
import { parseDuration } from "../../io/duration.js";
import { emit } from "../session.js";
import { EXIT } from "../exit-codes.js";
import { failOnArg } from "../severity.js";

/** `5s`, `1m`, or `500ms` into milliseconds. */
function timeoutMs(text: string): number {
  const ms = /^(\d+)ms$/.exec(text.trim());
  if (ms) return Number(ms[1]);
  const seconds = parseDuration(text);
  if (seconds > 60) throw new UsageError("INVALID_ARGUMENT", `--timeout ${text} is over the 60s limit`);
  return seconds * 1000;
}

function certLines(c: CertificateInfo, i: number): string[] {
  const left =
    c.secondsLeft < 0
      ? `EXPIRED ${-c.daysLeft} day(s) ago`
      : c.daysLeft > 0
        ? `${c.daysLeft} day(s) left`
        : c.secondsLeft >= 3600
          ? `${Math.floor(c.secondsLeft / 3600)} h left`
          : `${Math.floor(c.secondsLeft / 60)} min left`;
  return [
    `  [${i}] ${c.subject}${c.selfSigned ? "  (self-signed)" : ""}${c.isCa ? "  (CA)" : ""}`,
    `      issuer:    ${c.issuer}`,
    `      serial:    ${c.serial}`,
    `      valid:     ${c.notBefore} .. ${c.notAfter} (${left}; lifetime ${c.lifetimeHours} h${c.shortLived ? ", short-lived" : ""})`,
    ...(c.sans.length ? [`      SANs:      ${c.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`).join(", ")}`] : []),
    `      key:       ${c.key.type}${c.key.curve ? ` ${c.key.curve}` : ""}${c.key.bits ? ` ${c.key.bits} bits` : ""}; signed ${c.signatureAlgorithm}`,
  ];
}

function human(r: ProbeReport): string {
  const h = r.handshake;
  const auth = r.clientAuth;
  return [
    `target:       ${r.target.host}:${r.target.port} (${r.target.address}${r.target.servername ? `, SNI ${r.target.servername}` : ""})`,
    `handshake:    ${h.ok ? `${h.protocol} ${h.cipherStandardName ?? h.cipher}${h.ephemeralKey ? `, ${h.ephemeralKey}` : ""}${h.alpn ? `, ALPN ${h.alpn}` : ""}${h.error ? `; then ${h.error}` : ""}` : `failed (${h.error ?? "unknown"})`}`,
    `versions:     ${r.protocols.map((p) => `${p.version} ${p.result}`).join(", ")}`,
    `chain (as sent):`,
    ...r.chain.flatMap(certLines),
    `trust:        ${r.validation.trusted === null ? `not determined (${r.validation.error})` : r.validation.trusted ? "valid" : `NOT valid (${r.validation.error})`} against ${r.validation.trustStore}`,
    `name:         ${r.validation.name.checked} ${r.validation.name.matches ? "matches" : `does NOT match (${r.validation.name.error})`}`,
    `client cert:  ${auth.required === null ? "unknown" : auth.required ? "required" : "not required"} (${auth.evidence})`,
    ...(auth.withCertificate
      ? [`mTLS:         ${auth.withCertificate.ok ? `succeeded (${auth.withCertificate.protocol})` : `FAILED (${auth.withCertificate.error})`}`]
      : []),
    `plaintext:    ${!r.plaintext.tested ? "not tested" : r.plaintext.httpStatusLine ? `answers HTTP (${r.plaintext.httpStatusLine})` : "no HTTP answer"}`,
    `findings:`,
    ...(r.findings.length ? r.findings.map((f) => `  ${f.severity.padEnd(6)} ${f.id}: ${f.message}`) : ["  none"]),
  ].join("\n");
}

export function tlsCommand(): Command {
  const tls = new Command("tls").description("inspect TLS endpoints");
  tls
    .command("probe")
    .description(
      "connect to a TLS endpoint and report protocols, cipher, chain, client-certificate policy and findings (exit 8 when a finding reaches --fail-on)",
    )
    .argument("<target>", "https://host:port or host:port")
    .option("--ca <file>", "PEM CA certificates to validate against (default: Node's root store)")
    .option("--cert <dir>", "folder with cert.pem and key.pem: also try mTLS with this client certificate")
    .option("--servername <name>", "SNI and the name to check the certificate against (default: the target host)")
    .option("--timeout <duration>", "per-connection timeout, e.g. 5s or 500ms (at most 60s)", "5s")
    .option("--expect-mtls", "the service should require client certificates (raises that finding to medium)")
    .option("--no-plaintext-check", "do not send a plaintext HTTP request to the port")
    .option("--fail-on <severity>", "exit 8 when a finding is at or above this severity (high, medium, low, info)", "high")
    .option("--json", "print the report as JSON")
    .action(
      async (
        target: string,
        opts: { ca?: string; cert?: string; servername?: string; timeout: string; expectMtls?: boolean; plaintextCheck: boolean; failOn: string },
        cmd: Command,
      ) => {
        const fails = failOnArg(opts.failOn, ["high", "medium", "low", "info"] as const);
        const report = await probeTls(target, {
          ...(opts.ca ? { ca: opts.ca } : {}),
          ...(opts.cert ? { certDir: opts.cert } : {}),
          ...(opts.servername ? { servername: opts.servername } : {}),
          timeoutMs: timeoutMs(opts.timeout),
          expectMtls: opts.expectMtls === true,
          plaintextCheck: opts.plaintextCheck,
        });
        emit(cmd, report, () => human(report));
        if (report.findings.some((f) => fails(f.severity))) process.exitCode = EXIT.findings; // a result, not an error
      },
    );
  return tls;
}
