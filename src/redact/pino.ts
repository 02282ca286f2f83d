/**
 * pino integration. pino's own `redact` paths blank known fields (`req.headers.authorization`);
 * pipeseal then catches PII and secrets anywhere else, including inside free-text messages.
 *
 * Two ways in, both synchronous (pino writes synchronously), so the `encrypt` operator is not
 * available here; pipe through `createRedactStream` for that.
 * - `pipesealPinoDestination(dest, options)`: wraps any destination (`pino.destination()`,
 *   a file stream, a transport stream).
 * - `pipesealPinoHook(options)`: a `hooks.streamWrite` function.
 */
import { UsageError } from "../errors.js";
import { Redactor, type RedactOptions } from "./redactor.js";

export interface PinoDestinationLike {
  write(chunk: string): unknown;
  flushSync?(): void;
  end?(): unknown;
}

function syncRedactor(options: RedactOptions): Redactor {
  const r = new Redactor(options);
  if (r.isAsync) throw new UsageError("INVALID_ARGUMENT", "the encrypt and tokenize operators are asynchronous; pipe pino through createRedactStream instead");
  return r;
}

function redactChunk(r: Redactor, chunk: string): string {
  const lines = chunk.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (i === lines.length - 1 && lines[i] === "") break;
    const red = r.redactLine(lines[i]);
    if (red !== null) out.push(red);
  }
  return out.length === 0 ? "" : out.join("\n") + (chunk.endsWith("\n") ? "\n" : "");
}

/**
 * @example
 * const log = pino({ redact: ["req.headers.authorization"] }, pipesealPinoDestination(pino.destination(1)));
 * log.info("user bob@example.org signed in"); // {"level":30,…,"msg":"user [EMAIL] signed in"}
 * @throws UsageError if an operator is `encrypt`.
 */
export function pipesealPinoDestination<D extends PinoDestinationLike>(
  dest: D,
  options: RedactOptions = {},
): PinoDestinationLike & { readonly redactor: Redactor } {
  const redactor = syncRedactor(options);
  return {
    redactor,
    write(chunk: string) {
      const out = redactChunk(redactor, chunk);
      return out.length > 0 ? dest.write(out) : true;
    },
    flushSync() {
      dest.flushSync?.();
    },
    end() {
      return dest.end?.();
    },
  };
}

/**
 * @example const log = pino({ hooks: { streamWrite: pipesealPinoHook() } });
 */
export function pipesealPinoHook(options: RedactOptions = {}): (s: string) => string {
  const redactor = syncRedactor(options);
  return (s) => redactChunk(redactor, s);
}
