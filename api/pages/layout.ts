import { createHash } from 'node:crypto';

/** Minimal, accessible server-rendered pages (no scripts, no external assets). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The one inline stylesheet of every page, in a narrow (forms) and a wide (results) width. */
const style = (width: string) => `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: ${width}; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: .4rem; border: 1px solid #444; background: #1a1a1a; color: #fff; cursor: pointer; }
  button:focus { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .muted { color: #555; }
  .field { margin: 1rem 0; display: flex; flex-direction: column; gap: .25rem; }
  .field input[type=checkbox] { align-self: flex-start; width: 1.2rem; height: 1.2rem; }
  input, select, textarea { font: inherit; padding: .4rem; border: 1px solid #666; border-radius: .3rem; }
  [aria-invalid=true] { border-color: #b00020; }
  .error { color: #b00020; margin: 0; }
  .error-summary { border: 2px solid #b00020; padding: .5rem 1rem; border-radius: .4rem; }
  .actions { display: flex; gap: 1rem; }
  button.secondary { background: #fff; color: #1a1a1a; }
  .stats { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: 1rem 0; }
  table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
`;
const STYLES = { narrow: style('36rem'), wide: style('60rem') };

/**
 * The CSP hashes of those stylesheets: pages allow exactly them (`style-src 'sha256-…'`), no
 * other inline style and no script at all (see api/security-headers.ts).
 */
export const PAGE_STYLE_HASHES = Object.values(STYLES).map((css) => `'sha256-${createHash('sha256').update(css).digest('base64')}'`);

export function page(title: string, body: string, width: keyof typeof STYLES = 'narrow'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLES[width]}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}
