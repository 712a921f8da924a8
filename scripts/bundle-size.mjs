// Bundles and minifies a JS entry the way a production bundler ships it, for scripts/package.sh's
// size table: `node scripts/bundle-size.mjs ESBUILD_DIR ENTRY OUTFILE`.
//
// The entries load their .wasm themselves (src/shell/js/load.js: `new URL(..., import.meta.url)`
// and fetch, or `init()`'s argument), so the bundle holds every byte of JS a page runs for them:
// the loader, the glue and the shell. The .wasm is a file of its own, which package.sh adds.
// React stays out: it is the app's (a peer of cognito-session/react), not the package's bytes.
import path from 'node:path';
import { createRequire } from 'node:module';

const [esbuildDir, entry, outfile] = process.argv.slice(2);
if (!outfile) {
  process.stderr.write('usage: node scripts/bundle-size.mjs ESBUILD_DIR ENTRY OUTFILE\n');
  process.exit(2);
}
const esbuild = createRequire(path.resolve(esbuildDir, 'package.json'))(path.resolve(esbuildDir));

await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['react'],
  logLevel: 'error',
  logOverride: { 'empty-import-meta': 'silent' },
});
