import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { ArtifactError, describeProblem } from "../../artifacts/errors.js";
import type { SignatureAlgorithm } from "../../artifacts/dsse.js";
import { createSigningKey, openSigner, signingKeyInfo } from "../../artifacts/signing-keys.js";
import { signModel } from "../../artifacts/sign.js";
import { loadTrustFile } from "../../artifacts/trust.js";
import { verifyModel } from "../../artifacts/verify.js";
import { once, writeAtomic } from "../../io/atomic.js";
import { refuseOverwrite } from "../output.js";
import { emit, keystoreHome, withKeystore } from "../session.js";
import { parseSize } from "../../io/size.js";

const collectList = (v: string, acc: string[]) => [...acc, v];

interface KeyCreateOptions {
  alg: string;
  json?: boolean;
}
interface KeyExportOptions {
  output?: string;
  force?: boolean;
}
interface SignOptions {
  key: string;
  output: string;
  name?: string;
  shardSize?: string;
  ignore: string[];
  incremental?: string;
  force?: boolean;
  json?: boolean;
}
interface VerifyOptions {
  sig: string;
  trust: string;
  name?: string;
  json?: boolean;
}

/** Paths of the signature output inside the model folder, so it is never hashed. */
function insideModel(dir: string, file: string | undefined): string[] {
  if (!file) return [];
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel.startsWith("..") || path.isAbsolute(rel) ? [] : [rel];
}

export function modelCommand(): Command {
  const model = new Command("model").description("sign and verify model folders (OpenSSF model-signing v1.0 format)");
  const key = model.command("key").description("model signing keys, sealed in the keystore");
  key
    .command("create <name>")
    .description("create an Ed25519 or ECDSA P-256 signing key sealed under the keystore key <name>")
    .option("--alg <alg>", "ed25519 | p256 (p256 also verifies with model-signing's `verify key`)", "p256")
    .option("--json", "print as JSON")
    .action(async (name: string, opts: KeyCreateOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const info = await createSigningKey(ks, keystoreHome(cmd), name, opts.alg as SignatureAlgorithm); // it refuses any other --alg
        emit(cmd, info, () => `created signing key ${name} (${info.alg}), key hint ${info.hint}`);
      }),
    );
  key
    .command("export <name>")
    .description("write the public key (PEM) for trust files and other verifiers")
    .option("-o, --output <file>", "output file (default stdout)")
    .option("-f, --force", "replace an existing --output file")
    .action(async (name: string, opts: KeyExportOptions, cmd: Command) => {
      const info = await signingKeyInfo(keystoreHome(cmd), name);
      if (opts.output && opts.output !== "-") {
        await refuseOverwrite(opts.output, opts.force);
        await writeFile(opts.output, info.publicKeyPem, { mode: 0o644 });
        emit(
          cmd,
          { output: opts.output, hint: info.hint },
          () => `wrote the public key of ${name} (hint ${info.hint}) to ${opts.output}; list it under models: in a trust file`,
        );
      } else process.stdout.write(info.publicKeyPem);
    });

  model
    .command("sign <dir>")
    .description("hash every file (or shard) on all cores and sign the manifest")
    .requiredOption("--key <name>", "signing key (pipeseal model key create)")
    .requiredOption("-o, --output <file>", "signature file (e.g. model.sig.json)")
    .option("--name <model>", "model name recorded in the signature (default: folder name)")
    .option("--shard-size <size>", "hash in shards of this size, e.g. 1GiB (default: whole files)")
    .option("--ignore <path>", "path to leave out, relative to the model (repeatable)", collectList, [])
    .option("--incremental <sig>", "re-hash only files whose size or mtime changed since this earlier signature (same key)")
    .option("--force", "replace an existing output file")
    .option("--json", "print as JSON")
    .action(async (dir: string, opts: SignOptions, cmd: Command) => {
      await refuseOverwrite(opts.output, opts.force);
      const previous = opts.incremental ? await readFile(opts.incremental, "utf8") : undefined;
      await withKeystore(cmd, async (ks) => {
        const signer = await openSigner(ks, keystoreHome(cmd), opts.key);
        const r = await signModel(dir, {
          signer,
          ...(opts.name ? { modelName: opts.name } : {}),
          ...(opts.shardSize ? { shardSize: parseSize(opts.shardSize) } : {}),
          ignore: [...opts.ignore, ...insideModel(dir, opts.output)],
          ...(previous !== undefined ? { incremental: previous } : {}),
        });
        await writeAtomic(opts.output, once(Buffer.from(JSON.stringify(r.bundle) + "\n")), 0o644);
        const summary = {
          output: opts.output,
          model: r.manifest.modelName,
          resources: r.manifest.resources.length,
          rootDigest: r.rootDigest,
          bytesHashed: r.bytesHashed,
          filesHashed: r.filesHashed,
          filesReused: r.filesReused,
          signerHint: signer.info.hint,
        };
        emit(
          cmd,
          summary,
          () =>
            `signed model "${r.manifest.modelName}"${opts.name ? "" : " (named after its folder; --name sets it)"}: ${r.manifest.resources.length} ${r.manifest.serialization.method}, root sha256 ${r.rootDigest}${previous !== undefined ? ` (re-hashed ${r.filesHashed} files, reused ${r.filesReused})` : ""} -> ${opts.output}`,
        );
      });
    });

  model
    .command("verify <dir>")
    .description("check a model folder against a signature and a trust file; non-zero exit naming every difference")
    .requiredOption("--sig <file>", "signature file")
    .requiredOption("--trust <file>", "trust file (YAML): accepted signer keys per model name")
    .option("--name <model>", "the model name the signature must be for (default: the name it claims)")
    .option("--json", "print as JSON")
    .action(async (dir: string, opts: VerifyOptions, cmd: Command) => {
      const text = await readFile(opts.sig, "utf8");
      try {
        const v = await verifyModel(dir, text, {
          trust: loadTrustFile(opts.trust),
          ignore: insideModel(dir, opts.sig),
          ...(opts.name ? { modelName: opts.name } : {}),
        });
        emit(
          cmd,
          { ok: true, model: v.manifest.modelName, resources: v.manifest.resources.length, signer: v.signer.hint, trustedFrom: v.signer.source },
          () => `OK ${v.manifest.modelName}: ${v.manifest.resources.length} ${v.manifest.serialization.method} verified, signer ${v.signer.hint.slice(0, 16)}…`,
        );
      } catch (e) {
        if (e instanceof ArtifactError && e.problems.length) {
          emit(cmd, { ok: false, code: e.code, problems: e.problems }, () => `FAILED ${dir}\n${e.problems.map((p) => "  " + describeProblem(p)).join("\n")}`);
        }
        throw e;
      }
    });
  return model;
}
