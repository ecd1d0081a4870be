// The part of node:zlib the Worker uses (src/domain/lean-event.ts): workerd implements it natively
// under the nodejs_compat flag (wrangler.toml). Declared here rather than with @types/node, whose
// globals (Buffer, process) would leak into every module of the Worker.
declare module "node:zlib" {
  interface ZlibOptions {
    dictionary?: Uint8Array;
    level?: number;
  }
  export function deflateRawSync(input: Uint8Array, options?: ZlibOptions): Uint8Array;
  export function inflateRawSync(input: Uint8Array, options?: ZlibOptions): Uint8Array;
}
