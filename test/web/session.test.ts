/** The dashboard's session gate and export cells, attacked directly (no browser): token reuse, expiry, forged cookies, CSRF, CSV formulas, loopback. */
import { describe, expect, it } from "vitest";
import { SESSIONS_PER_OWNER, SessionGate, csrfMatches, readCookie, sessionCookie } from "../../src/web/session.js";
import { csvCell } from "../../src/web/export.js";
import { parseLoopbackListen } from "../../src/web/server.js";
import { esc, html, raw } from "../../src/web/html.js";

describe("SessionGate", () => {
  it("a login token works once; a used, unknown or expired token opens nothing", () => {
    let now = 1_000_000;
    const gate = new SessionGate({ now: () => now, tokenTtlMs: 60_000 });
    const token = gate.mintToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = gate.redeem(token);
    expect(id).not.toBeNull();
    expect(gate.session(id!)).not.toBeNull();
    expect(gate.redeem(token)).toBeNull(); // replay
    expect(gate.redeem("x".repeat(43))).toBeNull();
    const late = gate.mintToken();
    now += 60_000;
    expect(gate.redeem(late)).toBeNull(); // expired (and spent)
    expect(gate.session(token)).toBeNull(); // a token is not a session id
    expect(gate.session(undefined)).toBeNull();
  });

  it("a key-service identity that never returns the cookie holds at most SESSIONS_PER_OWNER sessions; others' stay", () => {
    const gate = new SessionGate();
    const other = gate.start("spiffe://acme/prod/auditor").id;
    const ids = Array.from({ length: 5000 }, () => gate.start("spiffe://acme/prod/trainer").id);
    const live = ids.filter((id) => gate.session(id) !== null);
    expect(live).toEqual(ids.slice(-SESSIONS_PER_OWNER)); // the newest ones; the oldest ended
    expect(gate.session(other)?.owner).toBe("spiffe://acme/prod/auditor");
    expect(gate.size).toBe(SESSIONS_PER_OWNER + 1);
  });

  it("an idle session ends; using it keeps it alive", () => {
    let now = 0;
    const gate = new SessionGate({ now: () => now, idleMs: 1000 });
    const id = gate.redeem(gate.mintToken())!;
    now = 900;
    expect(gate.session(id)).not.toBeNull();
    now = 1800;
    expect(gate.session(id)).not.toBeNull();
    now = 2800;
    expect(gate.session(id)).toBeNull();
  });

  it("checks the CSRF token in constant time and rejects anything else", () => {
    const gate = new SessionGate();
    const s = gate.session(gate.redeem(gate.mintToken())!)!;
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, s.csrf.slice(1))).toBe(false);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, ["x"])).toBe(false);
  });

  it("the cookie is HttpOnly and SameSite=Strict, Secure over HTTPS; reading picks the right cookie", () => {
    expect(sessionCookie("abc", "/", false)).toBe("pipeseal_ui=abc; HttpOnly; SameSite=Strict; Path=/");
    expect(sessionCookie("abc", "/ui/", true)).toBe("pipeseal_ui=abc; HttpOnly; SameSite=Strict; Path=/ui/; Secure");
    expect(readCookie("a=1; pipeseal_ui=xyz; b=2")).toBe("xyz");
    expect(readCookie("xpipeseal_ui=xyz")).toBeUndefined();
  });
});

describe("escaping and exports", () => {
  it("the html tag escapes every interpolated value unless it is Raw", () => {
    expect(html`<p title="${'"><script>'}">${"<b>x</b>"}${raw("<i>ok</i>")}</p>`.markup).toBe(
      '<p title="&quot;&gt;&lt;script&gt;"><b>x</b>'.replace("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;") + "<i>ok</i></p>",
    );
    expect(esc("'&")).toBe("&#39;&amp;");
  });

  it("CSV cells that a spreadsheet would run as a formula are defused", () => {
    for (const f of ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]) expect(csvCell(f)).toBe(`'${f}`);
    expect(csvCell("spiffe://acme/prod/x")).toBe("spiffe://acme/prod/x");
  });
});

describe("--listen", () => {
  it("accepts loopback only", () => {
    expect(parseLoopbackListen("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseLoopbackListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(parseLoopbackListen("localhost:9")).toEqual({ host: "127.0.0.1", port: 9 });
    expect(parseLoopbackListen("8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    for (const bad of ["0.0.0.0:8080", "10.0.0.1:80", "[::]:80", "example.com:80", "127.0.0.1", "127.0.0.1:99999", "127.0.0.2:80"])
      expect(() => parseLoopbackListen(bad), bad).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
