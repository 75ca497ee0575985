// Bundles the dashboard into dist/ (app.js, app.css, index.html, unlock.js) and writes each
// asset's Subresource Integrity hash where it is loaded from: index.html pins app.js and
// app.css, and app.js pins unlock.js (the crypto, loaded only on *Unlock*), so the page runs
// only the scripts it was built with. The server embeds dist/ at `cargo build` time.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const dist = `${root}dist`;
await rm(`${dist}/app.js`, { force: true });
await rm(`${dist}/unlock.js`, { force: true });
await mkdir(dist, { recursive: true });
const integrity = async (file) =>
  'sha384-' +
  createHash('sha384')
    .update(await readFile(`${dist}/${file}`))
    .digest('base64');
const options = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...options,
  entryPoints: [`${root}src/unlock/index.ts`],
  outfile: `${dist}/unlock.js`,
});
await build({
  ...options,
  entryPoints: [`${root}src/main.ts`],
  outfile: `${dist}/app.js`,
  define: { UNLOCK_INTEGRITY: JSON.stringify(await integrity('unlock.js')) },
});
await copyFile(`${root}src/style.css`, `${dist}/app.css`);
const html = (await readFile(`${root}src/index.html`, 'utf8'))
  .replace('%JS_INTEGRITY%', await integrity('app.js'))
  .replace('%CSS_INTEGRITY%', await integrity('app.css'));
await writeFile(`${dist}/index.html`, html);
