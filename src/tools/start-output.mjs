// What `npm start` (src/tools/start.mjs) makes of wrangler's output, as pure functions that
// test/node checks: wrangler dev's output without the lines that repeat what npm start prints
// itself. Node-side tooling.

// Built from the escape character's code, not written into a regular expression literal.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** `text` without terminal colours. */
export function plain(text) {
  return text.replace(ANSI, "");
}

/**
 * A filter for wrangler dev's output lines (called once per line, in order; true keeps the line).
 * Dropped: the bindings table (npm start prints what matters, and its variables are secrets),
 * "Using secrets defined in ...", "Starting local server...", the log line of each call npm
 * start makes to /__scheduled every 30 s (the run itself logs when it did something), and
 * "Your types might be out of date": worker-configuration.d.ts is generated from the production
 * environment (npm run cf-typegen, checked fresh by CI), and wrangler dev compares it with the top
 * level's, so it would say so on every start.
 */
export function wranglerOutputFilter() {
  let inBindings = false;
  return (rawLine) => {
    const line = plain(rawLine).trimEnd();
    if (inBindings) {
      if (line === "") inBindings = false;
      return false;
    }
    if (/has access to the following bindings:$/.test(line)) {
      inBindings = true;
      return false;
    }
    if (/^Using (secrets|vars) defined in /.test(line)) return false;
    if (/Starting local server\.\.\.$/.test(line)) return false;
    if (/Your types might be out of date\. Re-run `wrangler types`/.test(line)) return false;
    if (/^\[wrangler:info\] [A-Z]+ \/__scheduled[?\s]/.test(line)) return false;
    return true;
  };
}
