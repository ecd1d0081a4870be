// A setupFile of the "workers" project, which runs its files in one workerd (isolate: false).
// Vitest hands its one module runner to the pool again for every test file, and
// @cloudflare/vitest-pool-workers 0.15.1 wraps the runner's `transport.invoke` in one more hop
// through its runner Durable Object each time, so every import of the n-th file went through n
// hops and the run slowed down file after file (fixed upstream in releases that need Node 22).
// The first file's wrapper (one hop, the one the pool needs) is kept and put back for every file.
interface Transport {
  invoke: (...args: unknown[]) => unknown;
}
const scope = globalThis as { __vitest_mocker__?: { moduleRunner?: { transport?: Transport } }; __tidingsFirstInvoke__?: Transport["invoke"] };
const transport = scope.__vitest_mocker__?.moduleRunner?.transport;
if (transport) {
  scope.__tidingsFirstInvoke__ ??= transport.invoke;
  transport.invoke = scope.__tidingsFirstInvoke__;
}
