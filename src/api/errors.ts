// One error type for the API and one handler that answers Mailgun's `{"message": ...}` body.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { $ZodError } from "zod/v4/core";
import { isRefused, type Refused } from "../domain/refusal";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    /** More fields of the answer beside `message`, where Mailgun's shape has them. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);

export function handleApiError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return c.json({ message: error.message, ...error.extra }, error.status);
  if (error instanceof $ZodError) {
    const issue = error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return c.json({ message: `${where}${issue?.message ?? "invalid input"}` }, 400);
  }
  if (error instanceof HTTPException) return c.json({ message: error.message || "Request failed" }, error.status);
  console.error(JSON.stringify({ msg: "unhandled API error", path: c.req.path, error: String(error), stack: error.stack }));
  return c.json({ message: "Internal server error" }, 500);
}

/** A DomainState answer, or the 400 its refusal stands for (the object answers refusals, never throws them: domain/refusal.ts). */
export function acceptedByState<T>(answer: T): Exclude<T, Refused> {
  if (isRefused(answer)) throw badRequest(answer.refused);
  return answer as Exclude<T, Refused>;
}
