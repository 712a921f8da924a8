// Builds the app with webpack's Node API and no setting for the package (the README asks webpack 5
// users for none: webpack emits the .wasm the package points at with new URL(..., import.meta.url)
// and handles its top-level await by default); copies index.html next to the bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');

const compiler = webpack({
  mode: 'production',
  context: here,
  entry: './src/main.js',
  output: { path: dist, filename: 'main.[contenthash].js', clean: true },
  performance: { hints: false },
});

compiler.run((err, stats) => {
  compiler.close(() => {});
  if (err) throw err;
  if (stats.hasErrors() || stats.hasWarnings()) {
    process.stderr.write(`${stats.toString({ all: false, errors: true, warnings: true })}\n`);
    process.exit(1);
  }
  const bundle = Object.keys(stats.compilation.assets).find((name) => /^main\.[0-9a-f]+\.js$/.test(name));
  const html = fs.readFileSync(path.join(here, 'index.html'), 'utf8').replace('__BUNDLE__', bundle);
  fs.writeFileSync(path.join(dist, 'index.html'), html);
});
