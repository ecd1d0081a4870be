// The API app: Mailgun-compatible routes behind Basic auth, one error handler for all of them.
// Bindings: DB (domains, events) through the db/ modules; DOMAIN_STATE, EVENTS, DELIVERY and
// MESSAGES for the Messages API.
import { Hono } from "hono";
import { requireApiKey } from "./auth";
import type { ApiEnv } from "./context";
import { analyticsApi } from "./analytics";
import { logsApi } from "./analytics-logs";
import { domainsApi } from "./domains";
import { handleApiError } from "./errors";
import { eventsApi } from "./events";
import { messagesApi } from "./messages";
import { storedMessagesApi } from "./stored-messages";
import { prepareApi } from "./prepare";
import { statsApi } from "./stats";
import { suppressionsApi } from "./suppressions";
import { tagsApi } from "./tags";
import { trackingApi } from "./tracking-settings";
import { x509Api } from "./x509";
import { webhooksApi } from "./webhooks";

export const apiApp = new Hono<ApiEnv>();

apiApp.get("/", (c) => c.json({ name: "Tidings", message: "Email event tracking with Mailgun's API. See the README." }));
for (const version of ["v1", "v2", "v3", "v4", "v5"]) apiApp.use(`/${version}/*`, requireApiKey);
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
apiApp.notFound((c) => c.json({ message: "Not found" }, 404));
apiApp.onError(handleApiError);
