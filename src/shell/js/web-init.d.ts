
// ----- pkg/web only: loading the .wasm -----

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export type SyncInitInput = BufferSource | WebAssembly.Module;

/** What loading produced (the `.wasm`'s exports; nothing an app needs). */
export interface InitOutput {
    readonly memory: WebAssembly.Memory;
}

/** Loads the `.wasm` synchronously from bytes or a compiled module. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** Loads the `.wasm` (by default from `cognito_session_bg.wasm` next to this module); await it
 * before the first `new Session(...)`. */
export default function init(module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
