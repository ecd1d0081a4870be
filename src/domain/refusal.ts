// What the domain's Durable Object answers to input it will not take: a value, not an exception.
// Workers RPC delivers a returned value as it was sent, whereas a thrown error arrives without its
// class and is reported as an uncaught exception (with its stack) on the object's side; so the API
// turns a refusal into a 400 (api/errors.ts acceptedByState) and other callers into their failure.

export interface Refused {
  /** Why, naming the field: "0.address: must be at most 320 bytes". */
  refused: string;
}

export function isRefused(value: unknown): value is Refused {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as Partial<Refused>).refused === "string";
}

/** The answer, or an Error saying what was refused: for callers whose own failure path fits (a queue consumer retries). */
export function valueOrThrow<T>(answer: T): Exclude<T, Refused> {
  if (isRefused(answer)) throw new Error(`DomainState refused: ${answer.refused}`);
  return answer as Exclude<T, Refused>;
}
