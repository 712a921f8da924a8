// Bundles and minifies a JS entry the way a production bundler ships it, for scripts/package.sh's
// size table: `node scripts/bundle-size.mjs ESBUILD_DIR ENTRY OUTFILE`.
//
// An `import ... from "x.wasm"` (the wasm-bindgen bundler target's) is left out of the bundle,
// as bundlers emit the .wasm as its own file, but it is not a black box: a real bundler reads the
// .wasm's import section and keeps every JS function the module imports. esbuild alone would
// drop them as unused (the JS glue would shrink to a few hundred bytes, a false reading), so the
// .wasm import becomes a small stand-in module that uses each imported function and exports the
// .wasm's export names.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [esbuildDir, entry, outfile] = process.argv.slice(2);
if (!outfile) {
  process.stderr.write('usage: node scripts/bundle-size.mjs ESBUILD_DIR ENTRY OUTFILE\n');
  process.exit(2);
}
const esbuild = createRequire(path.resolve(esbuildDir, 'package.json'))(path.resolve(esbuildDir));

const wasmStandIn = {
  name: 'wasm-stand-in',
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: path.resolve(args.resolveDir, args.path), namespace: 'wasm-stand-in' }));
    build.onLoad({ filter: /.*/, namespace: 'wasm-stand-in' }, (args) => {
      const module = new WebAssembly.Module(fs.readFileSync(args.path));
      const byModule = new Map();
      for (const imp of WebAssembly.Module.imports(module)) {
        if (!byModule.has(imp.module)) byModule.set(imp.module, []);
        byModule.get(imp.module).push(imp.name);
      }
      const lines = [];
      const used = [];
      [...byModule].forEach(([spec, names], i) => {
        lines.push(`import * as m${i} from ${JSON.stringify(spec)};`);
        for (const n of names) used.push(`m${i}[${JSON.stringify(n)}]`);
      });
      lines.push(`const keep = [${used.join(', ')}];`);
      const exported = WebAssembly.Module.exports(module).map((e) => `keep as ${JSON.stringify(e.name)}`);
      lines.push(`export { ${exported.join(', ')} };`);
      return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'error',
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [wasmStandIn],
});
