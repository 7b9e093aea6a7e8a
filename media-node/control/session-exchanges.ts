/**
 * The answers and new offers one live session takes from the edge, made safe to retry: the same
 * answer again is a no-op, a party's new offer sent again gets the same answer, and another new
 * offer from a party whose last one is still being answered is refused (SIP's 491 Request Pending).
 * Which answers a session takes follows from who offered at its creation.
 */
import type { LegName, MediaSession } from '../relay/index.ts';
import { ControlError } from './control-error.ts';

export type AnswerRequest = { readonly pbxAnswer: string } | { readonly browserAnswer: string };

/** A party's new offer in a session (re-INVITE). */
export type OfferRequest = { readonly browserOffer: string } | { readonly pbxOffer: string };

export type OfferedBy = 'browser' | 'pbx' | 'both' | 'node';

type AnswerKind = 'pbxAnswer' | 'browserAnswer';

/** Which answers a session waits for, by who offered at its creation. */
const ANSWERS_TAKEN: Readonly<Record<OfferedBy, readonly AnswerKind[]>> = {
  browser: ['pbxAnswer'],
  pbx: ['browserAnswer'],
  both: [],
  node: ['browserAnswer', 'pbxAnswer'],
};

export class SessionExchanges {
  readonly #id: string;
  readonly #session: MediaSession;
  readonly #offeredBy: OfferedBy;
  readonly #answers: Partial<Record<AnswerKind, { readonly text: string; readonly taking: Promise<void> }>> = {};
  /** The latest new offer of each party and its answer: the same offer again gets the same answer. */
  readonly #offers: Partial<Record<LegName, { readonly text: string; readonly answering: Promise<string> }>> = {};
  /** Parties whose latest new offer is still being answered. */
  readonly #offersPending = new Set<LegName>();

  constructor(id: string, session: MediaSession, offeredBy: OfferedBy) {
    this.#id = id;
    this.#session = session;
    this.#offeredBy = offeredBy;
  }

  /** Takes the answer of a party that was offered to, once; the same answer again is a no-op. */
  async answer(request: AnswerRequest): Promise<void> {
    const id = this.#id;
    const kind: AnswerKind = 'pbxAnswer' in request ? 'pbxAnswer' : 'browserAnswer';
    const text = 'pbxAnswer' in request ? request.pbxAnswer : request.browserAnswer;
    const taken = ANSWERS_TAKEN[this.#offeredBy];
    if (!taken.includes(kind)) {
      const takes = taken.length === 0 ? 'no answer: both offers were answered at its creation' : `a ${taken.join(' and a ')}`;
      throw new ControlError(409, 'wrong-answer', 'Wrong answer', `session ${id} was offered by ${offeredByText(this.#offeredBy)}: it takes ${takes}`);
    }
    const previous = this.#answers[kind];
    if (previous !== undefined) {
      if (previous.text !== text) throw new ControlError(409, 'already-answered', 'Already answered', `session ${id} has taken a different ${kind}`);
      await previous.taking;
      return;
    }
    const session = this.#session;
    const taking = kind === 'pbxAnswer' ? Promise.resolve().then(() => session.takePbxAnswer(text)) : session.takeBrowserAnswer(text);
    this.#answers[kind] = { text, taking };
    try {
      await taking;
    } catch (error) {
      // Refused: the session still waits for an answer, and a corrected one may follow.
      delete this.#answers[kind];
      throw error;
    }
  }

  /** A party's new offer; returns which party offered and the session's answer. */
  async offer(request: OfferRequest): Promise<{ readonly leg: LegName; readonly answer: string }> {
    const leg: LegName = 'browserOffer' in request ? 'browser' : 'pbx';
    const text = 'browserOffer' in request ? request.browserOffer : request.pbxOffer;
    const previous = this.#offers[leg];
    let answering: Promise<string>;
    if (previous !== undefined && previous.text === text) {
      answering = previous.answering;
    } else {
      if (previous !== undefined && this.#offersPending.has(leg)) {
        throw new ControlError(409, 'offer-pending', 'Offer pending', `session ${this.#id} is still answering an earlier ${leg} offer`);
      }
      const session = this.#session;
      answering = leg === 'browser' ? session.takeBrowserOffer(text) : Promise.resolve().then(() => session.takePbxOffer(text));
      this.#offers[leg] = { text, answering };
      this.#offersPending.add(leg);
      try {
        await answering;
      } catch (error) {
        if (this.#offers[leg]?.answering === answering) delete this.#offers[leg];
        throw error;
      } finally {
        this.#offersPending.delete(leg);
      }
    }
    return { leg, answer: await answering };
  }
}

function offeredByText(offeredBy: OfferedBy): string {
  switch (offeredBy) {
    case 'both':
      return 'both parties';
    case 'node':
      return 'the media node';
    default:
      return `the ${offeredBy}`;
  }
}
