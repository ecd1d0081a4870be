// %recipient.name% placeholders of a batch send (Mailgun's recipient-variables). A template knows
// how many bytes it fills to for a recipient without building the text, so a send whose variables
// would grow a copy past a limit is refused before anything is built or stored.
import { utf8ByteLength } from "./utf8";

const PLACEHOLDER = /%recipient\.([A-Za-z0-9_.-]+)%/g;

/** The names of the %recipient.name% placeholders a template uses. */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export type RecipientVariables = Record<string, unknown>;

/** A variable's text in a filled template: "" when missing or null, JSON for non-strings. */
export function variableText(variables: RecipientVariables, name: string): string {
  if (!Object.hasOwn(variables, name)) return "";
  const value = variables[name];
  return value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
}

/** Placeholders filled from the recipient's variables; unknown ones become "". No variables: unchanged. */
export function fillTemplate(text: string, variables: RecipientVariables | undefined): string {
  if (!variables) return text;
  return text.replace(PLACEHOLDER, (_, name: string) => variableText(variables, name));
}

export interface Template {
  /** Bytes (UTF-8) of the text with every placeholder taken out. */
  baseBytes: number;
  /** How often each variable is named. */
  uses: Map<string, number>;
}

export function parseTemplate(text: string): Template {
  const uses = new Map<string, number>();
  let placeholderBytes = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    uses.set(match[1]!, (uses.get(match[1]!) ?? 0) + 1);
    placeholderBytes += match[0].length; // placeholders are ASCII
  }
  return { baseBytes: utf8ByteLength(text) - placeholderBytes, uses };
}

/** Bytes of fillTemplate(text, variables), computed from the template alone. */
export function filledBytes(
  template: Template,
  variables: RecipientVariables | undefined,
  valueBytes: (name: string) => number = (name) => utf8ByteLength(variableText(variables ?? {}, name)),
): number {
  if (!variables) return template.baseBytes + [...template.uses.keys()].reduce((sum, name) => sum + `%recipient.${name}%`.length * template.uses.get(name)!, 0);
  let bytes = template.baseBytes;
  for (const [name, count] of template.uses) bytes += count * valueBytes(name);
  return bytes;
}

/** Sizes of one recipient's variables, each measured once however many templates name it. */
export function variableSizes(variables: RecipientVariables | undefined): (name: string) => number {
  const sizes = new Map<string, number>();
  return (name) => {
    let size = sizes.get(name);
    if (size === undefined) sizes.set(name, (size = utf8ByteLength(variableText(variables ?? {}, name))));
    return size;
  };
}
