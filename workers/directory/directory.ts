/**
 * Directory: one Durable Object per SIP domain (named by the domain) holding what spans the
 * domain's users: the list of users (`user-list.ts`, for `GET /api/v1/users`) and the domain's API
 * tokens (`token-store.ts`), its users' one-time provisioning links (`provisioning-links.ts`) and
 * the settings handed to its phones (`domain-settings.ts`), and its call detail records
 * (`call-records.ts`: written by the half that owns each call, `call-record-feed.ts`, and by the
 * media nodes' session-end reports, kept as the domain's retention says). The users themselves live in their SipUser objects; the API writes
 * here after the SipUser write succeeds (`workers/api/users.ts` says what happens when this second
 * write fails).
 *
 * Thin by design (STYLE.md): RPC methods delegate to the stores; time comes from `clock`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { CallRecords, type CallListPage, type CallListQuery, type CallRecord, type CallRecordUpdate } from './call-records.ts';
import type { DomainRetention } from '../domains/domain-record.ts';
import { DomainSettings, type ProvisioningSettings } from './domain-settings.ts';
import { ProvisioningLinks, type NewProvisioningLink, type TakenLink } from './provisioning-links.ts';
import { TokenStore, type TokenView } from './token-store.ts';
import { UserList, type DirectoryEntry, type UserListPage, type UserListQuery } from './user-list.ts';

/** The directory of `domain`. */
export function directoryOf(env: Env, domain: string): DurableObjectStub<Directory> {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName(domain));
}

export class Directory extends DurableObject<Env> {
  clock: Clock = systemClock;
  readonly users: UserList;
  readonly tokens: TokenStore;
  readonly links: ProvisioningLinks;
  readonly settings: DomainSettings;
  readonly calls: CallRecords;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.users = new UserList(ctx.storage.sql);
    this.tokens = new TokenStore(ctx.storage.sql);
    this.links = new ProvisioningLinks(ctx.storage.sql);
    this.settings = new DomainSettings(ctx.storage.sql);
    this.calls = new CallRecords(ctx.storage.sql, () => this.settings.callRetention());
  }

  /** The user exists (created, replaced, or found by a read): list it. */
  putUser(entry: DirectoryEntry): void {
    this.users.put(entry, this.clock.now());
  }

  /** Many users at once (a CSV import), in one transaction. */
  putUsers(entries: readonly DirectoryEntry[]): void {
    const now = this.clock.now();
    this.ctx.storage.transactionSync(() => {
      for (const entry of entries) this.users.put(entry, now);
    });
  }

  /** The user is gone: unlist it, and revoke its self-service tokens and provisioning links. */
  removeUser(username: string): boolean {
    this.tokens.revokeUser(username);
    this.links.revokeUser(username);
    return this.users.remove(username);
  }

  listUsers(query: UserListQuery): UserListPage {
    return this.users.page(query);
  }

  countUsers(): number {
    return this.users.count();
  }

  createToken(token: TokenView, secretSha256: string): void {
    this.tokens.create(token, secretSha256);
  }

  listTokens(): TokenView[] {
    return this.tokens.list(this.clock.now());
  }

  revokeToken(id: string): boolean {
    return this.tokens.revoke(id);
  }

  verifyToken(id: string, secretSha256: string): TokenView | null {
    return this.tokens.verify(id, secretSha256, this.clock.now()) ?? null;
  }

  createProvisioningLink(link: NewProvisioningLink): void {
    this.links.create(link, this.clock.now());
  }

  takeProvisioningLink(tokenSha256: string): TakenLink {
    return this.links.take(tokenSha256, this.clock.now());
  }

  revokeProvisioningLink(username: string, id: string): boolean {
    return this.links.revoke(username, id);
  }

  provisioningSettings(): ProvisioningSettings {
    return this.settings.provisioning();
  }

  setProvisioningSettings(settings: ProvisioningSettings): void {
    this.settings.setProvisioning(settings);
  }

  /** The domain's retention changed (or the domain was created): the call records follow it. */
  setRetention(retention: DomainRetention): void {
    this.settings.setCallRetention(retention.callRecords, retention.callRecordDays);
  }

  /**
   * The domain was created (again): what a previous domain of the same name left behind goes, its
   * tokens and call records; then its retention is set.
   */
  openDomain(retention: DomainRetention): void {
    this.ctx.storage.transactionSync(() => {
      this.tokens.revokeAll();
      this.calls.clear();
      this.setRetention(retention);
    });
  }

  /** A call's owning half or its media node tells what it knows of the call. */
  recordCall(update: CallRecordUpdate): void {
    this.calls.write(update, this.clock.now());
  }

  /** Updates of several calls (or of one call's steps), in order: what one object's call record feed sends at once. */
  recordCalls(updates: readonly CallRecordUpdate[]): void {
    const now = this.clock.now();
    this.ctx.storage.transactionSync(() => {
      for (const update of updates) this.calls.write(update, now);
    });
  }

  listCalls(query: CallListQuery): CallListPage {
    return this.calls.page(query);
  }

  getCall(id: string): CallRecord | null {
    return this.calls.get(id) ?? null;
  }
}
