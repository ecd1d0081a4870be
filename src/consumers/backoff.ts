// Retry delays for queue messages: exponential from 10 s, capped at 10 minutes. Unit: seconds.
const FIRST_RETRY_SECONDS = 10;
const MAX_RETRY_SECONDS = 600;

export function retryDelaySeconds(attempts: number): number {
  return Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}
