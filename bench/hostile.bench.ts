// The bad-input suite's requests (test/support/hostile-cases.ts, same seed as `npm test`), each
// timed inside workerd: how long the Worker spends on hostile input before it answers. Locally
// performance.now() advances during synchronous work, so a request's wall time here includes its
// CPU time (on Cloudflare it would not). Issue 11 asks for no request over 100 ms of CPU: the
// slowest ones are listed with their route and case, and counted against that figure. Nothing is
// asserted about speed; the 5xx answers are the test's business and only counted here.
import { it } from "vitest";
import { type HostileCase, hostileCases } from "../test/support/hostile-cases";
import { hostileRequest, makeHostileContext, withQueueSinks } from "../test/support/hostile-context";
import worker from "./bench-worker";
import { benchEnv, call, percentile, plainContext, report } from "./harness";

const API_KEY = "bench-api-key";
const SEED = 20261129;
/** The issue's budget for one request. Unit: ms. */
const BUDGET_MS = 100;
const SLOWEST_SHOWN = 15;

it("hostile requests: wall time of each inside workerd", async () => {
  const auth = { authorization: `Basic ${btoa(`api:${API_KEY}`)}` };
  const ctx = await makeHostileContext(
    (path, init = {}, env = benchEnv) => call(`http://127.0.0.1${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...auth } }, env),
    benchEnv,
    API_KEY,
    { domain: "hostile-bench.example.com", victim: "hostile-victim.example.com" },
  );
  const cases = hostileCases(SEED, ctx);
  const sinkEnv = withQueueSinks(benchEnv); // as in the test: no consumer work behind the requests
  const timed: Array<{ c: HostileCase; ms: number; status: number }> = [];
  for (const c of cases) {
    const { ctx: execution, drain } = plainContext();
    const began = performance.now();
    let status: number;
    try {
      const response = await worker.fetch(hostileRequest(c, ctx, API_KEY) as Request<unknown, IncomingRequestCfProperties>, sinkEnv, execution);
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 0; // thrown out of the handler: the test reports it
    }
    timed.push({ c, ms: performance.now() - began, status });
    await drain(); // waitUntil work (queue sends) is not the answer's time
  }
  const ms = timed.map((t) => t.ms);
  const over = timed.filter((t) => t.ms > BUDGET_MS);
  report(`hostile requests (seed ${SEED}): cases`, String(cases.length));
  report(
    "hostile requests: wall time p50 / p95 / p99 / max (ms)",
    [50, 95, 99].map((p) => percentile(ms, p).toFixed(1)).join(" / ") + ` / ${Math.max(...ms).toFixed(1)}`,
  );
  // Refused input must be cheap; an accepted maximal request (a 1,000-recipient send builds 1,000
  // tracked copies) is real work, so the two are counted apart rather than hidden in one figure.
  report(`hostile requests: over ${BUDGET_MS} ms, refused (4xx)`, String(over.filter((t) => t.status >= 400 && t.status < 500).length));
  report(`hostile requests: over ${BUDGET_MS} ms, accepted (2xx/3xx)`, String(over.filter((t) => t.status >= 200 && t.status < 400).length));
  report("hostile requests: answered 5xx or threw (see npm test)", String(timed.filter((t) => t.status >= 500 || t.status === 0).length));
  for (const t of [...timed].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_SHOWN)) {
    console.log(`  ${t.ms.toFixed(0).padStart(6)} ms  ${t.status}  ${t.c.route} | ${t.c.name}`);
  }
});
