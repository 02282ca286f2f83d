/** A parsed JSON object whose fields are not yet checked: read them as `unknown` and narrow. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** `value` if it is a JSON object (not null, not an array), else undefined: the first step of every hand-checked JSON reader. */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** Array.isArray without its `any[]`: an unchecked value narrows to `readonly unknown[]`, and a typed array keeps its element type. */
export function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}
