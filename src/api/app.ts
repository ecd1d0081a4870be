// The API app: Mailgun-compatible routes, each behind the key and role route-access.ts names for
// it (auth.ts, one middleware for every request), one error handler for all of them.
// Bindings: DB (domains, events, keys) through the db/ modules; DOMAIN_STATE, EVENTS, DELIVERY and
// MESSAGES for the Messages API.
import { Hono } from "hono";
import { analyticsApi } from "./analytics";
import { logsApi } from "./analytics-logs";
import { requireAccess } from "./auth";
import type { ApiEnv } from "./context";
import { domainsApi } from "./domains";
import { handleApiError } from "./errors";
import { eventsApi } from "./events";
import { keysApi } from "./keys";
import { messagesApi } from "./messages";
import { prepareApi } from "./prepare";
import { statsApi } from "./stats";
import { storedMessagesApi } from "./stored-messages";
import { suppressionsApi } from "./suppressions";
import { tagsApi } from "./tags";
import { trackingApi } from "./tracking-settings";
import { webhooksApi } from "./webhooks";
import { x509Api } from "./x509";

export const apiApp = new Hono<ApiEnv>();

// Every request, whatever its path (the embedded paging links /v3http:/... too), meets the table.
apiApp.use("*", requireAccess);
apiApp.get("/", (c) => c.json({ name: "Tidings", message: "Email event tracking with Mailgun's API. See the README." }));
apiApp.route("/", domainsApi);
apiApp.route("/", trackingApi);
apiApp.route("/", prepareApi);
apiApp.route("/", eventsApi);
apiApp.route("/", suppressionsApi);
apiApp.route("/", messagesApi);
apiApp.route("/", storedMessagesApi);
apiApp.route("/", statsApi);
apiApp.route("/", tagsApi);
apiApp.route("/", analyticsApi);
apiApp.route("/", logsApi);
apiApp.route("/", x509Api);
apiApp.route("/", webhooksApi);
apiApp.route("/", keysApi);
apiApp.notFound((c) => c.json({ message: "Not found" }, 404));
apiApp.onError(handleApiError);
