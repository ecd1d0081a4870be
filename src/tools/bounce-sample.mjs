// Fills the sample reports in samples/ (a DSN and an ARF report) for one delivery, for
// `npm run bounce` (src/tools/bounce.mjs) and the tests that post them. Pure: no Node APIs, so the
// Worker's tests can import it too. Node-side tooling: not part of the Worker bundle.

/** The placeholders a sample may hold, as {{name}}. */
export const SAMPLE_FIELDS = ["return_path", "recipient", "original_headers", "date"];

/**
 * The sample with every {{name}} replaced and CRLF line endings, as mail travels. A placeholder
 * without a value is an error, so a sample and this list cannot drift apart unnoticed.
 */
export function fillSample(template, values) {
  const filled = template.replace(/\{\{([a-z_]+)\}\}/g, (whole, name) => {
    if (!SAMPLE_FIELDS.includes(name) || !Object.hasOwn(values, name)) throw new Error(`no value for ${whole} in the sample`);
    return String(values[name]);
  });
  return filled.replace(/\r?\n/g, "\r\n");
}

/** The header block of a raw message (before the first empty line), with a Return-Path first, as the receiving MTA would have added it. */
export function returnedHeaders(raw, returnPath) {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.indexOf("\n\n");
  const headers = (end < 0 ? text : text.slice(0, end)).replace(/\n+$/, "");
  return /^return-path:/im.test(headers) ? headers : `Return-Path: <${returnPath}>\n${headers}`;
}
