/**
 * What the softphone keeps in this browser's localStorage, per signed-in user: call history (the
 * last 200 calls), conversations (the last 200 messages per contact) and the contact list.
 * Passwords are never stored.
 */
export interface CallRecord {
  readonly at: number;
  readonly direction: 'outgoing' | 'incoming';
  readonly peer: string;
  /** 0 when it was not answered. */
  readonly durationMs: number;
  /** How it ended: 'hung up', 'declined', '486 Busy Here', 'transferred to carol'. */
  readonly outcome: string;
}

export interface ChatLine {
  readonly at: number;
  readonly from: 'me' | 'them';
  readonly body: string;
  /** For sent messages: the final status (200/202), or the failure. */
  readonly status?: string;
}

const LIMIT = 200;

export class LocalStore {
  readonly #prefix: string;

  constructor(username: string) {
    this.#prefix = `sipedge.${username}.`;
  }

  history(): CallRecord[] {
    return this.read<CallRecord[]>('history', []);
  }

  addCall(record: CallRecord): void {
    this.write('history', [record, ...this.history()].slice(0, LIMIT));
  }

  clearHistory(): void {
    this.write('history', []);
  }

  conversation(peer: string): ChatLine[] {
    return this.read<Record<string, ChatLine[]>>('chat', {})[peer] ?? [];
  }

  conversationPeers(): string[] {
    return Object.keys(this.read<Record<string, ChatLine[]>>('chat', {}));
  }

  addLine(peer: string, line: ChatLine): void {
    const all = this.read<Record<string, ChatLine[]>>('chat', {});
    all[peer] = [...(all[peer] ?? []), line].slice(-LIMIT);
    this.write('chat', all);
  }

  contacts(): string[] {
    return this.read<string[]>('contacts', []);
  }

  setContacts(contacts: readonly string[]): void {
    this.write('contacts', [...new Set(contacts)].sort());
  }

  private read<T>(key: string, fallback: T): T {
    try {
      const text = localStorage.getItem(this.#prefix + key);
      return text === null ? fallback : (JSON.parse(text) as T);
    } catch {
      return fallback;
    }
  }

  private write(key: string, value: unknown): void {
    try {
      localStorage.setItem(this.#prefix + key, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the page keeps working without history.
    }
  }
}
