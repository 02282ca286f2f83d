import { Command } from "commander";
import { ArtifactError, describeProblem } from "../../artifacts/errors.js";
import { FolderRegistry } from "../../artifacts/registry/folder-store.js";
import { listRegistry } from "../../artifacts/registry/list.js";
import { pullModel } from "../../artifacts/registry/pull-model.js";
import { pushModel } from "../../artifacts/registry/push.js";
import { parseRef } from "../../artifacts/registry/store.js";
import { openSigner } from "../../artifacts/signing-keys.js";
import { loadTrustFile } from "../../artifacts/trust.js";
import { emit, keystoreHome, withKeystore } from "../session.js";
import { printable } from "../output.js";

const mb = (bytes: number, ms: number) =>
  `${(bytes / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(2)} s (${(bytes / 1e6 / (ms / 1000 || 1e-9)).toFixed(0)} MB/s)`;

interface PushOptions {
  name: string;
  version: string;
  key: string;
  signKey: string;
  json?: boolean;
}
interface PullOptions {
  output: string;
  trust: string;
  json?: boolean;
}

export function registryCommand(): Command {
  const reg = new Command("registry").description("an encrypted, signed model registry in a folder");
  reg
    .command("push <dir> <registry>")
    .description("seal every file (context: model, version, path), sign the manifest, publish the version atomically")
    .requiredOption("--name <name>", "model name")
    .requiredOption("--version <version>", "model version")
    .requiredOption("--key <name>", "keystore key the files are sealed under (e.g. models/prod)")
    .requiredOption("--sign-key <name>", "signing key (pipeseal model key create)")
    .option("--json", "print as JSON")
    .action(async (dir: string, registry: string, opts: PushOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const t = Date.now();
        const signer = await openSigner(ks, keystoreHome(cmd), opts.signKey);
        const r = await pushModel(ks, new FolderRegistry(registry), dir, { name: opts.name, version: opts.version }, { keyName: opts.key, signer });
        emit(
          cmd,
          { ...r.meta, bytes: r.bytes },
          () => `pushed ${opts.name}@${opts.version}: ${r.files} files, ${mb(r.bytes, Date.now() - t)}, root sha256 ${r.rootDigest}`,
        );
      }),
    );
  reg
    .command("pull <registry> <ref>")
    .description("verify signature (trust file) and every digest, then write name@version into a new folder")
    .requiredOption("-o, --output <dir>", "output folder (must not exist)")
    .requiredOption("--trust <file>", "trust file (YAML)")
    .option("--json", "print as JSON")
    .action(async (registry: string, ref: string, opts: PullOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const t = Date.now();
        try {
          const r = await pullModel(ks, new FolderRegistry(registry), parseRef(ref), opts.output, { trust: loadTrustFile(opts.trust) });
          emit(cmd, r, () => `pulled ${ref}: ${r.files} files verified, ${mb(r.bytes, Date.now() - t)} -> ${opts.output}`);
        } catch (e) {
          if (e instanceof ArtifactError && e.problems.length)
            process.stderr.write(`REFUSED ${ref}\n${e.problems.map((p) => "  " + describeProblem(p)).join("\n")}\n`);
          throw e;
        }
      }),
    );
  reg
    .command("list <registry>")
    .description("versions with digests, signer, encryption key, and who pulled them when")
    .option("--json", "print as JSON")
    .action(async (registry: string, _o: unknown, cmd: Command) => {
      const entries = await listRegistry(new FolderRegistry(registry));
      emit(cmd, entries, () =>
        entries.length === 0
          ? "the registry is empty"
          : entries
              .map((e) =>
                [
                  // the registry's files are not trusted: every field is escaped
                  `${printable(e.name)}@${printable(e.version)}  root ${printable(e.rootDigest.slice(0, 16))}…  ${e.signed ? `signed by ${printable(e.signerKey)} (${printable(e.signerHint?.slice(0, 16))}…)` : "UNSIGNED"}  key ${printable(e.encryptionKey)} v${printable(e.encryptionKeyVersions.join(","))}  pushed by ${printable(e.pushedBy)} ${printable(e.pushedAt)}`,
                  ...e.files.map((f) => `  ${printable(f.digest ?? "?".repeat(64))}  ${printable(f.size)}  ${printable(f.path)}`),
                  ...(e.pulls.length
                    ? e.pulls.map((p) => `  pulled ${printable(p.time)} by ${printable(p.principal)} (${printable(p.outcome)})`)
                    : ["  never pulled"]),
                ].join("\n"),
              )
              .join("\n"),
      );
    });
  return reg;
}
