export declare const WRANGLER_OFFLINE: Record<string, string>;
export declare function offlineEnv(): NodeJS.ProcessEnv;
