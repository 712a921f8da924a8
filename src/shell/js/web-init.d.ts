
// ----- pkg/web only: loading the .wasm -----

/** Where `init` loads the `.wasm` from: its URL, a request or response for it, its bytes, or the
 * compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export type SyncInitInput = BufferSource | WebAssembly.Module;

/** Loads the `.wasm` at once from its bytes or a compiled module. Throws `LOAD_FAILED` when it
 * cannot be compiled (its message says why and what to change). */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): void;

/** Loads the `.wasm` (by default from `cognito_session_bg.wasm` next to this module); await it
 * before the first `new Session(...)`, which until then throws `BAD_CONFIG`. Rejects with
 * `LOAD_FAILED` (its message says why and what to change); a later call tries again. */
export default function init(module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<void>;
