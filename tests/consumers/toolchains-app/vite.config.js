// Vite 7's dev server, as the package README sets it up: its dependency optimizer would move the
// package's code away from its .wasm (Vite 8 rewrites the URL), so the package is left out of it.
export default { optimizeDeps: { exclude: ['cognito-session'] } };
