// The tracking secrets by key version, from the Worker's settings: TRACKING_SECRET for
// TRACKING_KEY_VERSION, and retired ones in TRACKING_SECRETS_PREVIOUS ("version:secret,...").
// And TRACKING_TOKEN_FORMAT, the format new links are made in. Rules in docs/storage.md, "Tokens".

/** Resolves the secret for a key version; null when the version is unknown or retired. */
export type SecretForVersion = (version: number) => string | null;

type SecretSettings = {
  TRACKING_SECRET: string;
  TRACKING_KEY_VERSION: string;
  TRACKING_SECRETS_PREVIOUS?: string;
};
type ParsedSecrets = ReturnType<typeof parseSecretSettings>;
// By secret, then version, then previous secrets: each is a string the runtime hands over as the same
// object every time, with its hash cached, so the lookup builds no key string per hit.
const settingsCache = new Map<string, Map<string, Map<string, ParsedSecrets>>>();

let last: { secret: string; version: string; previous: string; parsed: ParsedSecrets } | null = null;

/** Secrets by key version from the Worker's settings (parsed once per isolate and settings). */
export function secretsFromSettings(settings: SecretSettings): { currentVersion: number; secretFor: SecretForVersion } {
  const previous = settings.TRACKING_SECRETS_PREVIOUS ?? "";
  // The settings of the last call, compared string by string (the same string objects on every hit,
  // so each comparison is one pointer check): a hit then skips the three map lookups below.
  if (last && last.secret === settings.TRACKING_SECRET && last.version === settings.TRACKING_KEY_VERSION && last.previous === previous) return last.parsed;
  let byVersion = settingsCache.get(settings.TRACKING_SECRET);
  if (!byVersion) {
    if (settingsCache.size > 16) settingsCache.clear();
    settingsCache.set(settings.TRACKING_SECRET, (byVersion = new Map()));
  }
  let byPrevious = byVersion.get(settings.TRACKING_KEY_VERSION);
  if (!byPrevious) byVersion.set(settings.TRACKING_KEY_VERSION, (byPrevious = new Map()));
  let parsed = byPrevious.get(previous);
  if (!parsed) byPrevious.set(previous, (parsed = parseSecretSettings(settings)));
  last = { secret: settings.TRACKING_SECRET, version: settings.TRACKING_KEY_VERSION, previous, parsed };
  return parsed;
}

function parseSecretSettings(settings: SecretSettings): { currentVersion: number; secretFor: SecretForVersion } {
  const currentVersion = Number(settings.TRACKING_KEY_VERSION || "1");
  if (!Number.isInteger(currentVersion) || currentVersion < 1 || currentVersion > 255) {
    throw new Error("TRACKING_KEY_VERSION must be an integer from 1 to 255");
  }
  const secrets = new Map<number, string>();
  for (const entry of (settings.TRACKING_SECRETS_PREVIOUS ?? "").split(",")) {
    const colon = entry.indexOf(":");
    if (colon > 0) secrets.set(Number(entry.slice(0, colon).trim()), entry.slice(colon + 1).trim());
  }
  if (settings.TRACKING_SECRET) secrets.set(currentVersion, settings.TRACKING_SECRET);
  return { currentVersion, secretFor: (version) => secrets.get(version) ?? null };
}

/** "sealed": encrypted, nothing readable in a link (the default); "signed": fields readable, with a MAC (every link made before). */
export type TokenFormat = "signed" | "sealed";

/**
 * The format new links are made in, from TRACKING_TOKEN_FORMAT: "sealed" when unset or empty. A
 * misspelt value throws rather than quietly choosing one, as TRACKING_KEY_VERSION does. The edge
 * honours both formats whatever this says.
 */
export function tokenFormatFromSettings(settings: { TRACKING_TOKEN_FORMAT?: string }): TokenFormat {
  const format = settings.TRACKING_TOKEN_FORMAT || "sealed";
  if (format !== "signed" && format !== "sealed") throw new Error('TRACKING_TOKEN_FORMAT must be "signed" or "sealed"');
  return format;
}
