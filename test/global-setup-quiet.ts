/// <reference types="node" />
// Vitest globalSetup (Node, the main process): keeps workerd's own log lines about failures that
// tests cause on purpose out of a green run's output. The workerd process's log records reach this
// process's output outside any test (@cloudflare/vitest-pool-workers' handleStructuredLogs writes
// them as strings and already drops a few teardown messages, with no option to drop more; what
// workerd prints unstructured is piped through as bytes), so `silent: "passed-only"` does not
// cover them. Dropped, and nothing else:
// - "WebSocket peer disconnected": the pool closing its socket to the runner when a workerd stops;
// - "connect(): Connection refused" and the "Network connection lost" records workerd adds even
//   when the Worker catches the failed fetch (a DNS resolver on a closed port, on purpose);
// - "TLS peer's certificate is not trusted": the SMTP tests' relay with a certificate for another
//   name, refused on purpose;
// with the "stack: …/workerd@…" line (addresses in the workerd binary) that follows such a record.
// A test that fails still fails with the error its code saw.
const EXPECTED = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/,
  /^exception = kj\/async-io-unix\.c\+\+:\d+: disconnected: connect\(\): Connection refused$/,
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.$/,
  /^uncaught exception; exception = workerd\/jsg\/\S+: disconnected: jsg\.Error: Network connection lost\.$/,
  /^e = kj\/compat\/tls\.c\+\+:\d+: failed: TLS peer's certificate is not trusted; reason = [^;]+$/,
];
const WORKERD_STACK = /^stack: (\S*\/workerd@[0-9a-f]+ ?)+(; sentryErrorContext = \w+; wdErrId = \w+)?$/;

function filterWorkerdLines(text: string, state: { afterDropped: boolean }): string {
  const kept: string[] = [];
  const lines = text.split("\n");
  const last = lines.pop()!; // "" when the chunk ends with a newline, as workerd's records do
  for (const line of lines) {
    if (EXPECTED.some((pattern) => pattern.test(line))) {
      state.afterDropped = true;
      continue;
    }
    if (state.afterDropped && WORKERD_STACK.test(line)) continue;
    state.afterDropped = false;
    kept.push(`${line}\n`);
  }
  return kept.join("") + last;
}

/** Filters one of this process's output streams (workerd's records go to either, by level). */
function quiet(stream: NodeJS.WriteStream & { tidingsQuiet?: true }): void {
  if (stream.tidingsQuiet) return; // once per process, whichever project's setup runs first
  stream.tidingsQuiet = true;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const state = { afterDropped: false };
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : null;
    if (text === null) return write(chunk, ...rest);
    const kept = filterWorkerdLines(text, state);
    if (kept === text) return write(chunk, ...rest);
    if (kept !== "") return write(kept, ...rest);
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  }) as typeof stream.write;
}

export default function setup(): void {
  quiet(process.stdout);
  quiet(process.stderr);
}
