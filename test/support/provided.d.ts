// Values test/global-setup.ts hands to the tests through vitest's provide()/inject().
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Scripted SMTP relay (test/support/scripted-smtp.ts) on 127.0.0.1, no AUTH, no TLS. */
    smtpPort: number;
    /** HTTP control port of that relay: GET/DELETE /messages. */
    smtpControlPort: number;
    /** A relay requiring AUTH PLAIN or LOGIN as "relay-user" / "relay-pass" (MAIL without it: 530). */
    smtpAuthPort: number;
    smtpAuthControlPort: number;
    /** A relay offering STARTTLS with the certificate for "localhost" in TEST_TLS. */
    smtpStartTlsPort: number;
    /** The same relay speaking TLS from the first byte (SMTPS). */
    smtpImplicitTlsPort: number;
    smtpTlsControlPort: number;
    /** Whether NODE_EXTRA_CA_CERTS holds TEST_TLS_CA, so workerd completes TLS with that relay. */
    smtpTlsTrusted: boolean;
    /** The scripted relay that offers PIPELINING (and requires AUTH, so a session is not free to open). */
    smtpPipeliningPort: number;
    smtpPipeliningControlPort: number;
  }
}
