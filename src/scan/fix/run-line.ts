/**
 * The start of every `pipeseal run` line `scan --fix` writes (the printed lines and the .env
 * comments): with the program options that reach the store the secrets were moved to, so the
 * line reads them from there (`pipeseal --server URL --cert DIR run`).
 */

/** A word a POSIX shell reads back as itself. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** `pipeseal run`, or `pipeseal --server URL --cert DIR run` with those flags. */
export function pipesealRun(flags: readonly string[] = []): string {
  return ["pipeseal", ...flags.map(shellWord), "run"].join(" ");
}
