/**
 * The facts of a local sipedge (`.sipedge/local.json`, git-ignored): the secrets the edge needs, the
 * demo users and where everything listens. Generated on the first `npm start` and kept, so that
 * passwords and tokens stay the same across restarts; scripts and tests read the same file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LocalUser {
  readonly username: string;
  readonly password: string;
  readonly displayName: string;
}

export interface LocalConfig {
  readonly nonceSecret: string;
  readonly operatorToken: string;
  /** Signs the control API between the edge and the media node (both ways); older files lack it. */
  readonly mediaSecret?: string;
  readonly users: readonly LocalUser[];
  /** Written by `npm start` once the edge runs. */
  readonly domain?: string;
  readonly edgeUrl?: string;
  readonly webSocketUrl?: string;
}

const DEMO_USERS = [
  { username: 'alice', displayName: 'Alice Demo' },
  { username: 'bob', displayName: 'Bob Demo' },
];

function secret(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function isLocalConfig(value: unknown): value is LocalConfig {
  if (typeof value !== 'object' || value === null) return false;
  const config = value as Record<string, unknown>;
  return typeof config.nonceSecret === 'string' && config.nonceSecret.length >= 16 && typeof config.operatorToken === 'string' && Array.isArray(config.users);
}

/** Reads `path`, or creates it with fresh secrets and demo users when it is missing. */
export function loadOrCreateLocalConfig(path: string): { config: LocalConfig; created: boolean } {
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isLocalConfig(parsed)) throw new Error(`${path} is not a sipedge local configuration; move it away to start afresh`);
    // A file from before the media node joined `npm start` gets its secret now.
    const config = parsed.mediaSecret === undefined ? { ...parsed, mediaSecret: secret(32) } : parsed;
    return { config, created: false };
  }
  const config: LocalConfig = {
    nonceSecret: secret(32),
    operatorToken: secret(24),
    mediaSecret: secret(32),
    users: DEMO_USERS.map((user) => ({ ...user, password: secret(12) })),
  };
  saveLocalConfig(path, config);
  return { config, created: true };
}

/** Writes the file readable by its owner only: it holds passwords and the operator token. */
export function saveLocalConfig(path: string, config: LocalConfig): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
