// The panel reads and changes everything through the API app itself — the same routes, query
// engine, Durable Objects and route table as mailgun.js meets — by calling it in-process as the
// signed-in key (its role, never the master key's): the request is granted that key in-process,
// so no secret is kept in the session. Nothing here touches storage. Bindings: all the API's.
import type { Context } from "hono";
import { apiApp } from "../api/app";
import { grantInProcess } from "../api/key-auth";
import type { PanelEnv } from "./context";

export interface ApiResult<T> {
  status: number;
  ok: boolean;
  body: T;
  /** Mailgun's `message` (or `Reason`) of an error answer. */
  message: string;
}

export async function callApi<T = Record<string, unknown>>(
  c: Context<PanelEnv>,
  method: string,
  path: string,
  body?: FormData | URLSearchParams | string,
  headers: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const request = grantInProcess(new Request(new URL(path, c.req.url), { method, body, headers }), c.get("principal"));
  const response = await apiApp.fetch(request, c.env, c.executionCtx);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // CSV or plain text answers stay text
  }
  const record = (parsed && typeof parsed === "object" ? parsed : {}) as { message?: unknown; Reason?: unknown };
  const message = String(record.message ?? record.Reason ?? (response.ok ? "" : `HTTP ${response.status}`));
  return { status: response.status, ok: response.ok, body: parsed as T, message };
}

/** Like callApi, but an error answer becomes the page's error banner instead of data. */
export async function mustCallApi<T>(c: Context<PanelEnv>, method: string, path: string, body?: FormData | URLSearchParams): Promise<T> {
  const result = await callApi<T>(c, method, path, body);
  if (!result.ok) throw new PanelError(result.message, result.status);
  return result.body;
}

export class PanelError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
