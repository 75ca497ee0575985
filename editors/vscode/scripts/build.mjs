// Bundles the extension with esbuild (`vscode` stays external: the host provides it), and
// with --unit also compiles the unit tests and the vscode-free modules they import.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const unit = process.argv.includes('--unit');
const production = process.argv.includes('--production');

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
});

if (unit) {
  const tests = readdirSync('test/unit').filter((name) => name.endsWith('.test.ts'));
  await build({
    entryPoints: tests.map((name) => `test/unit/${name}`),
    bundle: true,
    outdir: 'out/unit',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
}
