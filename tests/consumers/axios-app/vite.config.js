// The bundler entry of cognito-session imports its .wasm as an ES module: vite-plugin-wasm
// handles that import, and es2022 allows the top-level await it compiles to.
import { defineConfig } from 'vite';
import wasm from 'vite-plugin-wasm';

export default defineConfig({
  plugins: [wasm()],
  build: { target: 'es2022' },
});
