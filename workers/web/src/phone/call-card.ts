/**
 * The call card of the softphone page: who, the call's state, the timer, the two level meters,
 * answer/decline while it rings (with the ring tone and a notification when the page is hidden),
 * and mute, hold, the DTMF keypad, blind transfer and hang-up once it is up. An ended call stays on
 * the card for a few seconds and goes to the history.
 */
import { byId, duration, el, show } from '../common/dom.ts';
import { LevelMeter } from './level-meter.ts';
import type { CallRecord } from './local-store.ts';
import { notifyWhenHidden } from './notify.ts';
import type { Tones } from './ring-tone.ts';
import type { CallView, Softphone } from './softphone.ts';

export const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

/** How long an ended call stays on the card. */
const ENDED_SHOWN_MS = 3_000;

export interface CallCardPorts {
  phone(): Softphone | undefined;
  readonly tones: Tones;
  ended(record: CallRecord): void;
}

export interface CallCard {
  render(view: CallView | undefined): void;
  media(local: MediaStream, remote: MediaStream): void;
}

export function setUpCallCard(ports: CallCardPorts): CallCard {
  const { tones } = ports;
  const card = byId('call');
  const localMeter = new LevelMeter(byId<HTMLMeterElement>('local-level'));
  const remoteMeter = new LevelMeter(byId<HTMLMeterElement>('remote-level'));
  const remoteAudio = byId<HTMLAudioElement>('remote-audio');
  let timer: ReturnType<typeof setInterval> | undefined;

  const stopTimer = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  const setPressed = (id: string, pressed: boolean, on: string, off: string): void => {
    const button = byId(id);
    button.setAttribute('aria-pressed', String(pressed));
    button.textContent = pressed ? on : off;
  };
  const setDisclosure = (buttonId: string, panelId: string, open: boolean): void => {
    byId(buttonId).setAttribute('aria-expanded', String(open));
    show(byId(panelId), open);
    if (open) byId(panelId).querySelector<HTMLElement>('button, input')?.focus();
  };
  const toggleDisclosure = (buttonId: string, panelId: string): void => setDisclosure(buttonId, panelId, byId(buttonId).getAttribute('aria-expanded') !== 'true');

  byId('answer').addEventListener('click', () => void ports.phone()?.answer());
  byId('decline').addEventListener('click', () => void ports.phone()?.decline());
  byId('hang-up').addEventListener('click', () => void ports.phone()?.hangUp());
  byId('mute').addEventListener('click', () => ports.phone()?.toggleMute());
  byId('hold').addEventListener('click', () => void ports.phone()?.toggleHold());
  byId('keypad-toggle').addEventListener('click', () => toggleDisclosure('keypad-toggle', 'dtmf'));
  byId('transfer-toggle').addEventListener('click', () => toggleDisclosure('transfer-toggle', 'transfer'));
  byId<HTMLFormElement>('transfer').addEventListener('submit', (event) => {
    event.preventDefault();
    const target = byId<HTMLInputElement>('transfer-target').value.trim();
    ports.phone()?.transfer(target).catch((error: unknown) => {
      byId('call-state').textContent = error instanceof Error ? error.message : 'transfer failed';
    });
  });
  for (const key of KEYS) {
    const button = el('button', { type: 'button', 'aria-label': `Tone ${key}` }, key);
    button.addEventListener('click', () => {
      tones.key(key);
      void ports.phone()?.dtmf(key);
    });
    byId('dtmf').append(button);
  }

  const ended = (view: CallView): void => {
    stopTimer();
    setDisclosure('keypad-toggle', 'dtmf', false);
    setDisclosure('transfer-toggle', 'transfer', false);
    ports.ended({
      at: view.answeredAt ?? Date.now(),
      direction: view.direction,
      peer: view.peer,
      durationMs: view.answeredAt === undefined ? 0 : Date.now() - view.answeredAt,
      outcome: view.reason ?? (view.answeredAt === undefined ? 'not answered' : 'hung up'),
    });
  };

  return {
    render(view) {
      if (view === undefined) {
        stopTimer();
        tones.stopRinging();
        localMeter.detach();
        remoteMeter.detach();
        remoteAudio.srcObject = null;
        setTimeout(() => {
          if (ports.phone()?.call === undefined) show(card, false);
        }, ENDED_SHOWN_MS);
        return;
      }
      show(card, true);
      const who = view.peerName !== undefined && view.peerName !== view.peer ? `${view.peerName} (${view.peer})` : view.peer;
      byId('call-peer').textContent = view.direction === 'incoming' ? `Call from ${who}` : `Call to ${who}`;
      byId('call-state').textContent = view.phase === 'in call' && view.held ? 'on hold' : view.phase === 'ended' ? `ended: ${view.reason ?? ''}` : view.phase;
      card.dataset.phase = view.phase;
      show(byId('incoming-actions'), view.phase === 'incoming');
      show(byId('meters'), view.phase === 'in call');
      show(byId('call-timer'), view.answeredAt !== undefined);
      show(byId('call-actions'), view.phase !== 'incoming' && view.phase !== 'ended');
      for (const id of ['mute', 'hold', 'keypad-toggle', 'transfer-toggle']) byId<HTMLButtonElement>(id).disabled = view.phase !== 'in call';
      setPressed('mute', view.muted, 'Unmute', 'Mute');
      setPressed('hold', view.held, 'Resume', 'Hold');
      if (view.phase === 'incoming') {
        tones.startRinging();
        notifyWhenHidden(`Call from ${who}`, 'Open the phone to answer', 'incoming-call');
        byId('answer').focus();
      } else {
        tones.stopRinging();
      }
      if (view.phase === 'in call' && view.answeredAt !== undefined && timer === undefined) {
        const answeredAt = view.answeredAt;
        const tick = (): void => {
          byId('call-timer').textContent = duration(Date.now() - answeredAt);
        };
        tick();
        timer = setInterval(tick, 1_000);
      }
      if (view.phase === 'ended') ended(view);
    },
    media(local, remote) {
      remoteAudio.srcObject = remote;
      void remoteAudio.play().catch(() => undefined);
      const context = tones.context();
      localMeter.attach(context, local);
      remoteMeter.attach(context, remote);
    },
  };
}
