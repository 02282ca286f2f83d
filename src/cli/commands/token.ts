/**
 * `pipeseal token mint`: a short-lived bearer token from the key service, minted over mTLS for
 * this certificate's identity. It narrows a certificate holder's rights (`--operations`) or,
 * where the service sets `tokensWithoutCertificate`, lets a caller without a certificate in
 * (PIPESEAL_TOKEN with --ca). The token is a secret: it goes to stdout only, never to a log.
 */
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseDuration } from "../../io/duration.js";
import { emit, withService } from "../session.js";

export function tokenCommand(): Command {
  const token = new Command("token").description("short-lived bearer tokens from the key service");
  token
    .command("mint")
    .description("mint a bearer token (≤ 15 min) for this certificate's identity; prints the token")
    .option("--ttl <duration>", "lifetime, e.g. 90s or 5m (default: the service's tokenTtl, at most 15m)")
    .option("--operations <list>", "comma-separated operations the token may be used for (default: all the identity may do)")
    .option("--json", "print as JSON: token, expiresAt, identity")
    .action(async (opts: { ttl?: string; operations?: string }, cmd: Command) => {
      const ttlSeconds = opts.ttl === undefined ? undefined : parseDuration(opts.ttl);
      const operations = opts.operations
        ?.split(",")
        .map((o) => o.trim())
        .filter((o) => o !== "");
      if (operations !== undefined && operations.length === 0) throw new UsageError("INVALID_ARGUMENT", "--operations needs at least one operation");
      await withService(cmd, "token", async (kr) => {
        const r = await kr.mintToken({ ...(ttlSeconds === undefined ? {} : { ttlSeconds }), ...(operations ? { operations } : {}) });
        emit(cmd, r, () => r.token);
      });
    });
  return token;
}
