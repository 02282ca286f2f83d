/**
 * The dashboard's only script (served as a file: the CSP allows no inline script). Pages work
 * without it; it adds conveniences: an admin action's button is enabled only once the key
 * name is typed exactly (the server checks again), and "/" jumps to the audit search box.
 */
function wireConfirmations(): void {
  document.querySelectorAll<HTMLFormElement>("form.confirm-form").forEach((form) => {
    const input = form.querySelector<HTMLInputElement>("input[data-expect]");
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (!input || !button) return;
    const expected = input.dataset.expect ?? "";
    const sync = (): void => {
      button.disabled = input.value !== expected;
    };
    input.addEventListener("input", sync);
    form.addEventListener("submit", (e) => {
      if (input.value !== expected) e.preventDefault();
    });
    sync();
  });
}

function wireShortcuts(): void {
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement | null;
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    const search = document.querySelector<HTMLInputElement>("form.filters input[name=q]");
    if (search) {
      e.preventDefault();
      search.focus();
    }
  });
}

wireConfirmations();
wireShortcuts();
