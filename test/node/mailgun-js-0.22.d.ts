// The parts of the legacy mailgun-js 0.22 client (no types of its own) that the tests call.
declare module "mailgun-js" {
  type Callback = (error: Error | null, body: unknown) => void;
  interface Resource {
    get(query?: Record<string, unknown>): Promise<any>;
    create(data: Record<string, unknown>): Promise<any>;
    list(query?: Record<string, unknown>): Promise<any>;
    info(): Promise<any>;
    delete(): Promise<any>;
    verify(): Resource & Promise<any>;
    tracking(): Resource & { open(): { update(data: Record<string, unknown>): Promise<any> } };
    send(data: Record<string, unknown>): Promise<any>;
  }
  interface Mailgun {
    domains(name?: string): Resource;
    events(): Resource;
    messages(): Resource;
    /** A request to `endpoint + path`, as Ghost's analytics follows a paging link. */
    get(path: string, query?: Record<string, unknown>, callback?: Callback): Promise<any>;
  }
  interface Options {
    apiKey: string;
    domain: string;
    protocol?: string;
    host?: string;
    port?: string | number;
    endpoint?: string;
    retry?: number;
  }
  export default function mailgun(options: Options): Mailgun;
}

// Ghost's Mailgun analytics provider (no types of its own): the constructor and the two fetches.
declare module "@tryghost/email-analytics-provider-mailgun" {
  type BatchHandler = (events: Array<{ type: string; recipientEmail: string; emailId: string }>) => object;
  interface Result {
    delivered: number;
    emailIds: string[];
  }
  export default class EmailAnalyticsProviderMailgun {
    constructor(options: { config: { get(key: string): unknown }; settings: { get(key: string): unknown } });
    fetchAll(handler: BatchHandler): Promise<Result>;
    fetchLatest(latestTimestamp: number, handler: BatchHandler): Promise<Result>;
  }
}
