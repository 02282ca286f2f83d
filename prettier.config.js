// Prettier's defaults (double quotes, semicolons, trailing commas) are already this code's style; two settings differ.
// printWidth 160: the line length the code was written to. Measured on src, test, bench and scripts: 160 rewrites 566 files
// (+12k/-3k lines), 140 rewrites 665 (+18k) and 120 rewrites 747 (+27k), and all three leave about the same 370 lines over
// 160 characters, the strings, comments and regexes no printer can break.
// embeddedLanguageFormatting off: the dashboard's html`…` templates are output, not source; re-indenting them changes the pages.
export default {
  printWidth: 160,
  embeddedLanguageFormatting: "off",
};
