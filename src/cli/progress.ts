/**
 * A progress bar on stderr (bytes, rate, ETA) for long operations, shown only when
 * stderr is a terminal: piped or logged output never gets control characters.
 */
export function withProgress<T extends Uint8Array>(source: AsyncIterable<T>, label: string, total?: number): AsyncIterable<T> {
  const meter = progressMeter(label, total);
  if (!meter) return source;
  return (async function* () {
    try {
      for await (const chunk of source) {
        meter.add(chunk.length);
        yield chunk;
      }
    } finally {
      meter.end();
    }
  })();
}

/** The same bar for a source the caller reads itself: `add` per read, `end` once. Undefined when stderr is not a terminal. */
export function progressMeter(label: string, total?: number): { add(n: number): void; end(): void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const start = Date.now();
  let done = 0;
  let last = 0;
  let ended = false;
  const draw = (final: boolean) => {
    const seconds = Math.max((Date.now() - start) / 1000, 0.001);
    const rate = done / seconds;
    const pct = total ? ` ${((100 * Math.min(done, total)) / total).toFixed(0).padStart(3)}%` : "";
    const eta = total && rate > 0 && !final ? `  ETA ${formatSeconds(Math.max(0, total - done) / rate)}` : "";
    process.stderr.write(`\r${label}${pct}  ${formatBytes(done)}${total ? " / " + formatBytes(total) : ""}  ${formatBytes(rate)}/s${eta}\x1b[K`);
    if (final) process.stderr.write("\n");
  };
  return {
    add(n) {
      done += n;
      if (Date.now() - last > 100) {
        last = Date.now();
        draw(false);
      }
    },
    end() {
      if (!ended) draw(true);
      ended = true;
    },
  };
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function formatSeconds(s: number): string {
  const total = Math.round(s);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}
