// One webhook delivery attempt: a POST of one event, signed as Mailgun signs it, to one URL whose
// host is checked first (url-safety.ts). Used by the webhooks consumer and the API's test call.

import { webhookHostRefusal } from "../domain/url-safety";
import { type AttemptResult, signWebhook, WEBHOOK_TIMEOUT_MS } from "../domain/webhooks";

export interface WebhookPostOptions {
  /** The fetch used to reach receivers (tests inject one). */
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * One signed POST. Never throws: a timeout or network error becomes `{error}`. The URL's host is
 * checked again here, whatever the API checked when it was stored (it may predate the rule, or the
 * setting may have changed): a host that is not public is `{error, refused}` and nothing is sent.
 * Redirects are never followed (`redirect: "manual"`): a 3xx is the answer, a failure.
 */
export async function postWebhook(
  signingKey: CryptoKey,
  url: string,
  eventData: Record<string, unknown>,
  options: WebhookPostOptions & { allowPrivateUrls: boolean },
): Promise<AttemptResult & { body?: string }> {
  const refusal = options.allowPrivateUrls ? null : webhookHostRefusal(url);
  if (refusal) return { error: `not posted: the URL's host ${refusal} (WEBHOOK_ALLOW_PRIVATE_URLS is off)`, refused: true };
  const signature = await signWebhook(signingKey, (options.now ?? Date.now)());
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Tidings webhooks (Mailgun-compatible)" },
      body: JSON.stringify({ signature, "event-data": eventData }),
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
    });
    // Read a little of the answer (shown by the test call and kept with a failure), then let go.
    const body = (await response.text().catch(() => "")).slice(0, 500);
    return { status: response.status, body };
  } catch (error) {
    const name = (error as Error)?.name;
    return { error: name === "TimeoutError" || name === "AbortError" ? `no answer within ${options.timeoutMs ?? WEBHOOK_TIMEOUT_MS} ms` : String(error) };
  }
}
