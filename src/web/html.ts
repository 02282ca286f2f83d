/**
 * HTML building for the dashboard. Key names, principals, object paths, context values and
 * alert summaries are user-controlled: every value reaches the page through {@link esc}
 * (text and quoted attributes) or {@link q} (URL query values, then escaped). Markup is built
 * only by the `html` tag, which escapes each interpolated value unless it is {@link Raw}
 * markup this module produced — so forgetting to escape takes an explicit `raw()`.
 */
import { isList } from "../io/json-value.js";

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML content and quoted attribute values. */
export function esc(value: string | number | bigint | boolean | null | undefined): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Markup that is already safe (built by `html` or by a renderer here). */
export class Raw {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export const raw = (markup: string): Raw => new Raw(markup);

type Part = Raw | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Raw) return part.markup;
  if (isList(part)) return part.map(render).join("");
  return esc(part);
}

/** Tagged template: literal parts are markup, interpolations are escaped (arrays joined, Raw kept). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Raw {
  let out = strings[0] ?? "";
  values.forEach((v, i) => (out += render(v) + (strings[i + 1] ?? "")));
  return new Raw(out);
}

/** A path with a query string built from `params` (empty values dropped), for href attributes (escape via html). */
export function link(pathname: string, params: Readonly<Record<string, string | number | undefined | null>> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const s = search.toString();
  return s ? `${pathname}?${s}` : pathname;
}

/** ISO time shown in UTC to the second, in a <time> element. */
export function time(value: string | number | Date | null | undefined): Raw {
  if (value === null || value === undefined) return raw("–");
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return html`${String(value)}`;
  const iso = d.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")}Z</time>`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

export const num = (n: number): string => n.toLocaleString("en-US");
