// The bundler entry of cognito-session imports its .wasm as a module (the WebAssembly ESM
// integration); Vite needs vite-plugin-wasm for that, and a target with top-level await.
import { defineConfig } from 'vite';
import wasm from 'vite-plugin-wasm';

export default defineConfig({
  plugins: [wasm()],
  build: { target: 'es2022' },
});
