/**
 * Accessibility checks for the dashboard's browser tests: axe-core's serious and critical
 * violations on the page as shown, and a walk of the page with the Tab key that records what
 * took the focus and whether the focus was visible there.
 */
import { AxeBuilder } from "@axe-core/playwright";
import type { Frame, Page } from "playwright-core";

/** axe's serious or critical violations, one line each (rule, impact, the first offending nodes). */
export async function seriousViolations(p: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page: p }).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(" | ")}`,
    );
}

export interface Stop {
  /** tag, then #id, [name], the text or the href: enough to tell the stops apart. */
  readonly what: string;
  readonly tag: string;
  /** The nearest landmark or region it sits in: header, nav, form, table, details, main… */
  readonly inside: string[];
  /** Whether the focused element drew a visible outline or box shadow. */
  readonly visible: boolean;
  /** Its place in document order (among all elements). */
  readonly index: number;
}

type Probe = Omit<Stop, "index"> & { index: number; frame: boolean };

/** What has the focus in `f`'s document (null: nothing, or its body). */
function focused(f: Frame): Promise<Probe | null> {
  return f.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (el === null || el === document.body) return null;
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow !== "none" && cs.boxShadow !== "";
    const inside: string[] = [];
    for (let a = el.parentElement; a !== null; a = a.parentElement) {
      const t = a.tagName.toLowerCase();
      if (["header", "nav", "main", "footer", "form", "table", "details", "section", "aside"].includes(t)) inside.push(t + (a.id ? `#${a.id}` : ""));
    }
    const label = [el.getAttribute("name"), (el.textContent ?? "").trim().slice(0, 40), el.getAttribute("href")]
      .filter((x) => x !== null && x !== "")
      .join(" ");
    return {
      what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${label}`,
      tag: el.tagName.toLowerCase(),
      inside,
      visible: outline || shadow,
      index: [...document.querySelectorAll("*")].indexOf(el),
      frame: el.tagName === "IFRAME",
    };
  });
}

/**
 * Presses Tab from the top of the page until the focus comes back to the start (or leaves the
 * document), at most `max` times, and returns each stop in order. Inside an embedded frame (the
 * posture report) the stop is the frame's focused element, placed at the frame in the order.
 */
export async function tabWalk(p: Page, max = 400): Promise<Stop[]> {
  await p.evaluate(() => {
    // start where a fresh visit starts: the top of the document (a blur alone leaves the
    // browser's focus navigation starting point where the last focus was)
    const b = document.body;
    b.setAttribute("tabindex", "-1");
    b.focus();
    b.removeAttribute("tabindex");
    window.scrollTo(0, 0);
  });
  const stops: Stop[] = [];
  let first: number | null = null;
  for (let i = 0; i < max; i++) {
    await p.keyboard.press("Tab");
    const top = await focused(p.mainFrame());
    if (top === null) break;
    let stop: Stop = top;
    if (top.frame) {
      const child = p.mainFrame().childFrames()[0];
      const inner = child ? await focused(child) : null;
      if (inner !== null)
        stop = { ...inner, what: `iframe > ${inner.what}`, inside: [...inner.inside, ...top.inside], index: top.index + (inner.index + 1) / 1e6 };
    }
    if (stop.index === first) break;
    first ??= stop.index;
    stops.push({ what: stop.what, tag: stop.tag, inside: stop.inside, visible: stop.visible, index: stop.index });
  }
  return stops;
}

const countReachable = () =>
  [...document.querySelectorAll<HTMLElement>("a[href], button, input:not([type=hidden]), select, textarea, summary")].filter((el) => {
    if ((el as HTMLButtonElement).disabled) return false;
    if (el.closest("details:not([open])") !== null && el.tagName !== "SUMMARY") return false;
    if (el.closest(".skip") === null && el.getClientRects().length === 0) return false;
    return el.tabIndex >= 0;
  }).length;

/** Every element a keyboard user should be able to reach on the page and in its frames: visible links, buttons, fields, summaries. */
export async function reachable(p: Page): Promise<number> {
  let n = 0;
  for (const f of p.frames()) n += await f.evaluate(countReachable);
  return n;
}
