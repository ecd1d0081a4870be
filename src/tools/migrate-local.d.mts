export declare function localDatabases(persistTo?: string): Promise<{ env: Record<string, unknown>; dispose(): Promise<void> }>;
export declare function migrateLocal(persistTo?: string, added?: { control: number; shards: number; stats: number; keys: number }): Promise<string>;
