// Values test/global-setup.ts hands to the tests through vitest's provide()/inject().
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Scripted SMTP relay (test/support/scripted-smtp.ts) on 127.0.0.1, no AUTH. */
    smtpPort: number;
    /** The same relay requiring AUTH ("relay-user" / "relay-pass"). */
    smtpAuthPort: number;
    /** HTTP control port of the plain relay: GET/DELETE /messages. */
    smtpControlPort: number;
    /** HTTP control port of the AUTH relay. */
    smtpAuthControlPort: number;
  }
}
