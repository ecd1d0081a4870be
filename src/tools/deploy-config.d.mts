// Types of deploy-config.mjs for the TypeScript tests (test/node); the tool itself is plain JavaScript.
import type { Unstable_Config, Unstable_RawConfig } from "wrangler";
import type { SecretSpec } from "../secrets";

export const PRODUCTION_ENV: "production";
export const SHARD_CREATE: string;
export const SHARD_MIGRATE: string;
export const BINDING_KINDS: Record<string, (config: Unstable_Config) => string[]>;
export function readDeployConfig(configPath?: string): { local: Unstable_Config; production: Unstable_Config; raw: Unstable_RawConfig };
export function queueNames(config: Unstable_Config): string[];
export function deployPlan(config: Unstable_Config, secrets?: readonly SecretSpec[]): { command: string; note?: string }[];
export function fallbackOriginOf(zone: string): string;
export function dnsPlan(config: Unstable_Config): string[];
export function bindingProblems(local: Unstable_Config, production: Unstable_Config, rawTopLevel?: object): string[];
export function secretProblems(production: Unstable_Config, secrets?: readonly SecretSpec[]): string[];
export function partitionProblems(config: Unstable_Config, label?: string): string[];
export function isPlaceholderHost(host: string): boolean;
export function productionValueProblems(production: Unstable_Config): string[];
