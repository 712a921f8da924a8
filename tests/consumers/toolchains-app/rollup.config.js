// Rollup as the package README sets it up: node-resolve (as for any npm package) and ES module
// output; the README's copy of the .wasm next to the bundle is done by the test.
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: 'src/main.js',
  output: { dir: 'dist-rollup', format: 'es' },
  plugins: [nodeResolve()],
};
