import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { loadCheckpoint, saveCheckpoint } from "../../artifacts/checkpoint.js";
import { FolderRegistry } from "../../artifacts/registry/folder-store.js";
import { openSigner } from "../../artifacts/signing-keys.js";
import { loadTrustFile } from "../../artifacts/trust.js";
import { emit, keystoreHome, withKeystore } from "../session.js";

const int = (flag: string, text: string, min: number): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError("INVALID_ARGUMENT", `${flag} must be a whole number >= ${min} (got "${text}")`);
  return n;
};

interface SaveOptions {
  run: string;
  step: string;
  signKey: string;
  key?: string;
  keep?: string;
  json?: boolean;
}
interface LoadOptions {
  run: string;
  step?: string;
  output: string;
  trust: string;
  json?: boolean;
}

export function checkpointCommand(): Command {
  const ck = new Command("checkpoint").description("signed, encrypted training checkpoints with retention");
  ck.command("save <dir> <registry>")
    .description("push a checkpoint folder as ckpt.<run>@<step>; with --keep N, older checkpoints are deleted and their key versions destroyed")
    .requiredOption("--run <run>", "training run id")
    .requiredOption("--step <n>", "training step")
    .requiredOption("--sign-key <name>", "signing key")
    .option("--key <name>", "checkpoint key (default checkpoints/<run>; dedicated: it is rotated per save)")
    .option("--keep <n>", "keep the last N checkpoints of the run")
    .option("--json", "print as JSON")
    .action(async (dir: string, registry: string, opts: SaveOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const signer = await openSigner(ks, keystoreHome(cmd), opts.signKey);
        const r = await saveCheckpoint(ks, new FolderRegistry(registry), dir, {
          run: opts.run,
          step: int("--step", opts.step, 0),
          signer,
          ...(opts.key ? { keyName: opts.key } : {}),
          ...(opts.keep ? { keep: int("--keep", opts.keep, 1) } : {}),
        });
        emit(cmd, { ref: r.ref, files: r.files, bytes: r.bytes, rootDigest: r.rootDigest, pruned: r.pruned }, () =>
          [
            `saved ${r.ref.name}@${r.ref.version}: ${r.files} files, ${r.bytes} bytes`,
            ...(r.pruned.remove.length
              ? [`pruned steps ${r.pruned.remove.map((x) => x.version).join(", ")}; destroyed key versions ${r.pruned.destroyKeyVersions.join(", ") || "-"}`]
              : []),
          ].join("\n"),
        );
      }),
    );
  ck.command("load <registry>")
    .description("verify and write a checkpoint (latest by default) into a new folder")
    .requiredOption("--run <run>", "training run id")
    .option("--step <n>", "step (default: latest)")
    .requiredOption("-o, --output <dir>", "output folder (must not exist)")
    .requiredOption("--trust <file>", "trust file (YAML); the model name is ckpt.<run>")
    .option("--json", "print as JSON")
    .action(async (registry: string, opts: LoadOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const r = await loadCheckpoint(ks, new FolderRegistry(registry), opts.run, opts.output, {
          trust: loadTrustFile(opts.trust),
          ...(opts.step ? { step: int("--step", opts.step, 0) } : {}),
        });
        emit(cmd, r, () => `loaded ${r.ref.name}@${r.ref.version}: ${r.files} files -> ${opts.output}`);
      }),
    );
  return ck;
}
