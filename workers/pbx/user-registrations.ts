/**
 * Proxy registration: a PbxLink registers each of its proxied users to the PBX with that user's
 * PBX credentials, for as long as the user has at least one live registration at the edge.
 *
 * - Who: a user whose PBX credentials name this link (`proxied-user-store.ts`, the only place the
 *   PBX password is kept). The user's SipUser says when its first binding appears and when its
 *   last one goes (`setWanted`); nothing is said for refreshes.
 * - How: one registration machine per user (`registration-machine.ts`, the link's own rules and
 *   res_pjsip options), fed a configuration derived from the link's (`proxied-user-config.ts`):
 *   the AOR is `sip:<PBX username>@<host of the link's client_uri>`, the digest username the
 *   user's `auth_id` or PBX username, and the Contact `sip:<PBX username>@<link contact host>` so
 *   that the PBX calls the user by its own name; `link-calls.ts` maps that Contact user back to
 *   the edge user.
 *   The first REGISTER goes at once (no random initial delay: a person is waiting).
 * - Where: on the link's connection (`send`), with a client transaction table of its own; the
 *   responses are picked off the connection by Call-ID (`receive`). A lost connection sends every
 *   registered user to `retrying`, as it does the link's own registration.
 * - When: one `TimerSet` holds each user's next step; `nextDeadline()` joins the link's one alarm.
 * - Storage: a row per user, rewritten only when the credentials, `wanted` or the registration
 *   record change; a refresh that succeeds writes nothing.
 */
import { clearTimer, emptyTimerSet, nextDeadline as nextTimer, setTimer, takeDue, type TimerSet } from '../../shared/clock/index.ts';
import { getCallId, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import {
  emptyTransactionTable,
  fireDueTimers,
  nextTimerDeadline,
  receiveResponse,
  reportTransportError,
  sendRequest,
  type TableAction,
  type TransactionTable,
} from '../../shared/transaction/index.ts';
import type { Logger } from '../logger.ts';
import type { ConnectionState } from './link-connection.ts';
import { registrationView, statusOf, type RegistrationStatus, type RegistrationView } from './link-status.ts';
import type { StoredLink } from './link-store.ts';
import { userConfig } from './proxied-user-config.ts';
import type { ProxiedUser, ProxiedUserStore } from './proxied-user-store.ts';
import { contactUri, createRegisterSession } from './register-request.ts';
import { initialRegistration, transition, type RegistrationEvent, type RegistrationState } from './registration-machine.ts';
import type { Random } from './registration-policy.ts';
import { recordOf, restoreRegistration } from './registration-record.ts';

/** The flow name of this module's transactions: whichever connection to the PBX is current. */
const FLOW = 'pbx';

export interface ProxiedCredentials {
  readonly username: string;
  readonly authId?: string;
  readonly password: string;
}

/** A user's proxy registration as the API shows it; never the password. */
export type ProxiedRegistrationView = Omit<RegistrationView, 'recent' | 'connection'> & {
  readonly username: string;
  readonly auth_id?: string;
};

export interface UserRegistrationPorts {
  readonly store: ProxiedUserStore;
  readonly log: Logger;
  link(): StoredLink | undefined;
  /** Writes on the link's connection, opening one when there is none; false when that fails. */
  send(wire: string): boolean;
  connection(): ConnectionState;
  random(): number;
}

interface Entry {
  user: ProxiedUser;
  reg: RegistrationState;
  recordJson: string | undefined;
  /** Credentials to switch to once the binding made with the current ones is removed. */
  next?: ProxiedUser;
  /** The credentials were deleted: the entry goes once its binding is removed. */
  removed?: boolean;
}

/** A refusal names the field at fault: the link (there is none) or the PBX username (taken). */
export type SetCredentialsResult = { readonly ok: true } | { readonly ok: false; readonly field: 'link' | 'username'; readonly detail: string };

export class UserRegistrations {
  readonly #ports: UserRegistrationPorts;
  readonly #entries = new Map<string, Entry>();
  /** Each entry's REGISTER Call-ID (fixed for the entry's life), to pick its responses off the connection. */
  readonly #byCallId = new Map<string, Entry>();
  #timers: TimerSet = emptyTimerSet;
  #table: TransactionTable = emptyTransactionTable;
  readonly #inFlight = new Map<string, { readonly aor: string; readonly cseq: number }>();

  constructor(ports: UserRegistrationPorts, now: number) {
    this.#ports = ports;
    for (const user of ports.store.loadAll()) {
      const session = createRegisterSession();
      // A user that is not wanted any more has nothing to resume; a wanted one resumes its record.
      const reg = user.record !== undefined && user.wanted ? restoreRegistration(user.record, session, now) : initialRegistration(session);
      const entry: Entry = { user, reg, recordJson: user.record === undefined ? undefined : JSON.stringify(user.record) };
      this.#add(entry);
      this.#arm(entry);
      if (user.wanted && user.record === undefined) this.#start(entry, now);
    }
  }

  /** Creates or replaces a user's PBX credentials; a user registered with the old ones is unregistered first. */
  setCredentials(aor: string, credentials: ProxiedCredentials, now: number): SetCredentialsResult {
    const link = this.#ports.link();
    if (link === undefined) return { ok: false, field: 'link', detail: 'there is no such PBX link' };
    if (credentials.username === link.config.contact_user) {
      return { ok: false, field: 'username', detail: `"${credentials.username}" is the link's own contact_user; calls to it go to the link's endpoint` };
    }
    for (const other of this.#entries.values()) {
      if (other.user.aor !== aor && !other.removed && other.user.username === credentials.username) {
        return { ok: false, field: 'username', detail: `another user already registers as "${credentials.username}" through this link` };
      }
    }
    const entry = this.#entries.get(aor);
    const user: ProxiedUser = {
      aor,
      username: credentials.username,
      ...(credentials.authId === undefined ? {} : { authId: credentials.authId }),
      password: credentials.password,
      wanted: entry?.user.wanted ?? false,
    };
    if (entry === undefined) {
      this.#add({ user, reg: initialRegistration(createRegisterSession()), recordJson: undefined });
      this.#ports.store.save(user);
      return { ok: true };
    }
    // Credentials deleted and given again (their unregistration may still be under way) are new ones.
    const same = entry.removed !== true && entry.user.username === user.username && entry.user.authId === user.authId && entry.user.password === user.password;
    entry.removed = false;
    if (same && entry.next === undefined) {
      // The same credentials again retry a registration that failed for good, as a link's do.
      if (entry.user.wanted && entry.reg.phase === 'failed') this.#start(entry, now);
      return { ok: true };
    }
    if (this.#bound(entry)) {
      entry.next = user;
      this.#ports.store.save({ ...user, ...this.#recordPart(entry) });
      if (entry.reg.phase !== 'unregistering') this.#drive(entry, { type: 'stop' }, now);
    } else {
      entry.user = user;
      delete entry.next;
      this.#ports.store.save({ ...user, ...this.#recordPart(entry) });
      if (user.wanted) this.#start(entry, now);
    }
    return { ok: true };
  }

  /** Forgets a user's PBX credentials, unregistering the user first when it is registered. */
  deleteCredentials(aor: string, now: number): boolean {
    const entry = this.#entries.get(aor);
    if (entry === undefined || entry.removed === true) return false;
    this.#ports.store.delete(aor);
    entry.removed = true;
    delete entry.next;
    if (this.#bound(entry)) {
      if (entry.reg.phase !== 'unregistering') this.#drive(entry, { type: 'stop' }, now);
    } else {
      this.#forget(entry);
    }
    return true;
  }

  /** The user's first edge binding appeared (true) or its last one went (false); false when the user has no credentials here. */
  setWanted(aor: string, wanted: boolean, now: number): boolean {
    const entry = this.#entries.get(aor);
    if (entry === undefined || entry.removed === true) return false;
    if (entry.user.wanted !== wanted) {
      entry.user = { ...entry.user, wanted };
      if (entry.next !== undefined) entry.next = { ...entry.next, wanted };
      this.#ports.store.save({ ...(entry.next ?? entry.user), ...this.#recordPart(entry) });
    }
    if (entry.next !== undefined) return true;
    const { phase } = entry.reg;
    if (wanted && (phase === 'stopped' || phase === 'failed' || phase === 'unregistering')) this.#start(entry, now);
    if (!wanted && phase !== 'stopped' && phase !== 'unregistering') this.#drive(entry, { type: 'stop' }, now);
    return true;
  }

  /** The Contact user the PBX calls, back to the edge username; undefined when it is no proxied user's. */
  userByContact(contactUser: string): string | undefined {
    for (const entry of this.#entries.values()) {
      if (!entry.removed && entry.user.username === contactUser) return entry.user.aor.slice(0, entry.user.aor.lastIndexOf('@'));
    }
    return undefined;
  }

  view(aor: string): ProxiedRegistrationView | undefined {
    const entry = this.#entries.get(aor);
    const link = this.#ports.link();
    if (entry === undefined || entry.removed === true || link === undefined) return undefined;
    const user = entry.next ?? entry.user;
    const { recent: _recent, connection: _connection, ...registration } = registrationView({
      state: entry.reg,
      contact: `<${contactUri(userConfig(link.config, user), link.identity)}>`,
      connection: this.#ports.connection(),
      recent: [],
    });
    return { username: user.username, ...(user.authId === undefined ? {} : { auth_id: user.authId }), ...registration };
  }

  /** How many proxied users are in each state, for the link's view. */
  counts(): Partial<Record<RegistrationStatus, number>> & { readonly total: number } {
    const counts: Partial<Record<RegistrationStatus, number>> = {};
    let total = 0;
    for (const entry of this.#entries.values()) {
      if (entry.removed === true) continue;
      total += 1;
      const status = statusOf(entry.reg);
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return { total, ...counts };
  }

  /** A message from the PBX: true when it answers one of these registrations. */
  receive(message: SipMessage, now: number): boolean {
    if (message.kind !== 'response' || !this.#byCallId.has(getCallId(message) ?? '')) return false;
    const result = receiveResponse(this.#table, message, now);
    this.#table = result.table;
    this.#perform(result.actions, now);
    return true;
  }

  /** The connection to the PBX closed: requests on it failed, and registered users register again. */
  flowLost(detail: string, now: number): void {
    for (const key of [...this.#inFlight.keys()]) {
      const result = reportTransportError(this.#table, key, now);
      this.#table = result.table;
      this.#perform(result.actions, now, detail);
    }
    for (const entry of [...this.#entries.values()]) this.#drive(entry, { type: 'flow-lost', detail }, now);
  }

  /** Something here needs the connection open: a binding at the PBX, or a request in flight. */
  holdsFlow(): boolean {
    if (this.#inFlight.size > 0) return true;
    for (const entry of this.#entries.values()) if (this.#bound(entry)) return true;
    return false;
  }

  nextDeadline(): number | undefined {
    const deadlines = [nextTimer(this.#timers), nextTimerDeadline(this.#table)].filter((deadline): deadline is number => deadline !== undefined);
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  fire(now: number): void {
    const fired = fireDueTimers(this.#table, now);
    this.#table = fired.table;
    this.#perform(fired.actions, now);
    const { set, due } = takeDue(this.#timers, now);
    this.#timers = set;
    for (const timer of due) {
      const entry = this.#entries.get(timer.key);
      if (entry !== undefined) this.#drive(entry, { type: 'timer' }, now);
    }
  }

  /** The link is deleted: registered users are unregistered (without waiting for the answers) and every row goes. */
  removeAll(now: number): void {
    for (const entry of [...this.#entries.values()]) {
      if (this.#bound(entry) && entry.reg.phase !== 'unregistering') this.#drive(entry, { type: 'stop' }, now);
    }
    this.#ports.store.deleteAll();
    this.#entries.clear();
    this.#byCallId.clear();
    this.#timers = emptyTimerSet;
    this.#table = emptyTransactionTable;
    this.#inFlight.clear();
  }

  #add(entry: Entry): void {
    this.#entries.set(entry.user.aor, entry);
    this.#byCallId.set(entry.reg.session.callId, entry);
  }

  #bound(entry: Entry): boolean {
    const { phase, attempt } = entry.reg;
    return phase === 'registered' || phase === 'unregistering' || (phase === 'sending' && attempt !== undefined);
  }

  #start(entry: Entry, now: number): void {
    this.#drive(entry, { type: 'start' }, now);
    if (entry.reg.phase === 'delaying' && (entry.reg.nextAt ?? now) <= now) this.#drive(entry, { type: 'timer' }, now);
  }

  #drive(entry: Entry, event: RegistrationEvent, now: number): void {
    const link = this.#ports.link();
    if (link === undefined) return;
    const result = transition(entry.reg, event, {
      config: userConfig(link.config, entry.user),
      identity: link.identity,
      password: entry.user.password,
      now,
      random: this.#ports.random,
    });
    entry.reg = result.state;
    if (result.outcome !== undefined) {
      const { status, reason, detail } = result.outcome;
      this.#ports.log.info('pbx-link.user-outcome', { link: link.config.id, aor: entry.user.aor, status, reason, detail, phase: result.state.phase });
    }
    if (result.send !== undefined && result.state.attempt !== undefined) this.#send(entry, result.send, result.state.attempt.cseq, now);
    this.#settle(entry, now);
  }

  /** What follows a stop: new credentials take over, or deleted ones go; then the row and the timer. */
  #settle(entry: Entry, now: number): void {
    const stopped = entry.reg.phase === 'stopped' || entry.reg.phase === 'failed';
    if (stopped && entry.removed === true) {
      this.#forget(entry);
      return;
    }
    if (stopped && entry.next !== undefined) {
      entry.user = entry.next;
      delete entry.next;
      entry.reg = initialRegistration(entry.reg.session);
      this.#persist(entry);
      if (entry.user.wanted) this.#start(entry, now);
      return;
    }
    this.#persist(entry);
    this.#arm(entry);
  }

  #recordPart(entry: Entry): { record?: ProxiedUser['record'] } {
    return entry.recordJson === undefined ? {} : { record: JSON.parse(entry.recordJson) as NonNullable<ProxiedUser['record']> };
  }

  /** Writes the row when what survives a restart changed, and only then. */
  #persist(entry: Entry): void {
    if (entry.removed === true) return;
    const record = recordOf(entry.reg);
    const json = JSON.stringify(record);
    if (json === entry.recordJson) return;
    entry.recordJson = json;
    this.#ports.store.save({ ...(entry.next ?? entry.user), record });
  }

  #arm(entry: Entry): void {
    const at = entry.reg.nextAt;
    this.#timers = at === undefined ? clearTimer(this.#timers, entry.user.aor) : setTimer(this.#timers, entry.user.aor, at);
  }

  #forget(entry: Entry): void {
    this.#entries.delete(entry.user.aor);
    this.#byCallId.delete(entry.reg.session.callId);
    this.#timers = clearTimer(this.#timers, entry.user.aor);
  }

  #send(entry: Entry, request: SipRequest, cseq: number, now: number): void {
    const result = sendRequest(this.#table, request, { reliable: true, flow: FLOW }, now);
    this.#table = result.table;
    this.#inFlight.set(result.key, { aor: entry.user.aor, cseq });
    this.#perform(result.actions, now);
  }

  #perform(actions: readonly TableAction[], now: number, failure = 'the connection failed'): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          if (!this.#ports.send(action.wire)) {
            const result = reportTransportError(this.#table, action.key, now);
            this.#table = result.table;
            this.#perform(result.actions, now, 'the connection to the PBX could not be opened');
          }
          break;
        case 'deliver': {
          const entry = action.message.kind === 'response' ? this.#byCallId.get(getCallId(action.message) ?? '') : undefined;
          if (entry !== undefined && action.message.kind === 'response') this.#drive(entry, { type: 'response', response: action.message }, now);
          break;
        }
        case 'timeout':
        case 'transport-error': {
          const inFlight = this.#inFlight.get(action.key);
          this.#inFlight.delete(action.key);
          const entry = inFlight === undefined ? undefined : this.#entries.get(inFlight.aor);
          if (inFlight !== undefined && entry !== undefined) {
            const detail = action.type === 'timeout' ? 'no final response within 64*T1 (RFC 3261 §17.1.2.2, Timer F)' : failure;
            this.#drive(entry, { type: 'no-response', cseq: inFlight.cseq, status: action.status, detail }, now);
          }
          break;
        }
        case 'terminated':
          this.#inFlight.delete(action.key);
          break;
        case 'stray':
          break;
      }
    }
  }
}
