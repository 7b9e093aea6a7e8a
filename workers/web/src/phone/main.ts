/**
 * The softphone page (/phone): sign-in (password or provisioning link), registration state, dial
 * pad, contacts with presence, chat, call history and device settings. SIP lives in
 * `softphone.ts`, the call card in `call-card.ts`; this module wires the rest of the page.
 */
import { byId, clock, duration, el, show } from '../common/dom.ts';
import { setUpTabs } from '../common/tabs.ts';
import { KEYS, setUpCallCard } from './call-card.ts';
import { fillDeviceChoices, useSpeaker } from './devices.ts';
import { LocalStore, type ChatLine } from './local-store.ts';
import { askNotificationPermission, notificationsAvailable, notifyWhenHidden } from './notify.ts';
import type { ContactStatus } from './presence.ts';
import { openProvisioningLink, takeProvisioningToken } from './provisioning.ts';
import { Tones } from './ring-tone.ts';
import { Softphone, type CallView, type RegistrationState } from './softphone.ts';

const tones = new Tones();
const remoteAudio = byId<HTMLAudioElement>('remote-audio');
const registration = byId('registration');
const selectTab = setUpTabs(document.querySelector<HTMLElement>('[role="tablist"]') ?? document.body, (tab) => {
  if (tab.id === 'tab-chat') clearUnread();
  if (tab.id === 'tab-settings') void refreshDevices();
});

let phone: Softphone | undefined;
let store: LocalStore | undefined;
let unread = 0;
const statuses = new Map<string, ContactStatus>();
const callCard = setUpCallCard({
  phone: () => phone,
  tones,
  ended: (record) => {
    store?.addCall(record);
    renderHistory();
  },
});

// ------------------------------------------------------------------ sign-in

/** Where to connect: the shared /sip of this host, unless a provisioning link said otherwise. */
let connection: { username?: string; webSocketUrl?: string; iceServers?: readonly RTCIceServer[]; displayName?: string } = {};

byId<HTMLFormElement>('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn(byId<HTMLInputElement>('username').value.trim(), byId<HTMLInputElement>('password').value);
});

async function signInWithLink(token: string): Promise<void> {
  const note = byId('sign-in-note');
  try {
    const config = await openProvisioningLink(token);
    connection = { username: config.username, webSocketUrl: config.webSocketUrl, iceServers: config.iceServers, ...(config.displayName === undefined ? {} : { displayName: config.displayName }) };
    byId<HTMLInputElement>('username').value = config.username;
    if (config.password !== undefined) {
      await signIn(config.username, config.password);
    } else {
      note.textContent = `Signing in as ${config.username}: enter your password to finish.`;
      byId('password').focus();
    }
  } catch (error) {
    byId('sign-in-error').textContent = error instanceof Error ? error.message : String(error);
  }
}

byId('sign-out').addEventListener('click', () => void signOut());

async function signIn(username: string, password: string): Promise<void> {
  const error = byId('sign-in-error');
  error.textContent = '';
  tones.context();
  let domain: string;
  try {
    const health = await fetch('/health');
    domain = ((await health.json()) as { domain: string }).domain;
  } catch {
    error.textContent = 'The edge did not answer. Check your connection and try again.';
    return;
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const webSocketUrl = connection.username === username && connection.webSocketUrl !== undefined ? connection.webSocketUrl : `${scheme}://${location.host}/sip`;
  const linked = connection.username === username ? connection : {};
  const candidate = new Softphone({ username, password, domain, webSocketUrl, ...(linked.iceServers === undefined ? {} : { iceServers: linked.iceServers }), ...(linked.displayName === undefined ? {} : { displayName: linked.displayName }) }, events);
  phone = candidate;
  // Until the first REGISTER is answered (the phone keeps retrying an edge it cannot reach).
  const submit = byId<HTMLButtonElement>('sign-in-submit');
  submit.disabled = true;
  const status = await candidate.start();
  submit.disabled = false;
  if (status !== 200) {
    error.textContent = status === 401 || status === 403 ? 'Wrong username or password.' : `The edge refused the sign-in (${status}).`;
    phone = undefined;
    await candidate.stop();
    setRegistration('signed-out', 'Signed out');
    return;
  }
  store = new LocalStore(username);
  byId<HTMLInputElement>('password').value = '';
  show(byId('sign-in'), false);
  show(byId('phone'), true);
  show(byId('sign-out'), true);
  for (const contact of store.contacts()) candidate.watch(contact);
  renderContacts();
  renderHistory();
  renderChatPeers();
  byId('dial-target').focus();
}

async function signOut(): Promise<void> {
  const current = phone;
  phone = undefined;
  store = undefined;
  await current?.stop();
  statuses.clear();
  show(byId('phone'), false);
  show(byId('sign-out'), false);
  show(byId('sign-in'), true);
  setRegistration('signed-out', 'Signed out');
  byId('username').focus();
}

function setRegistration(state: RegistrationState | 'signed-out', text: string): void {
  registration.dataset.state = state;
  registration.textContent = text;
}

// ------------------------------------------------------------------ SIP events

const events = {
  registration(state: RegistrationState, detail: string) {
    const label = { connecting: 'Connecting…', registered: 'Registered', unregistered: 'Not registered', reconnecting: 'Reconnecting…', failed: 'Registration failed' }[state];
    setRegistration(state, label);
    registration.title = detail;
  },
  call(view: CallView | undefined) {
    callCard.render(view);
  },
  media(local: MediaStream, remote: MediaStream) {
    callCard.media(local, remote);
  },
  message(from: string, body: string) {
    store?.addLine(from, { at: Date.now(), from: 'them', body });
    renderChatPeers();
    const peerInput = byId<HTMLInputElement>('chat-peer');
    const chatOpen = byId('tab-chat').getAttribute('aria-selected') === 'true';
    if (peerInput.value === '' || !chatOpen) peerInput.value = from;
    if (peerInput.value === from) renderConversation();
    if (!chatOpen) {
      unread += 1;
      byId('unread').textContent = `(${unread} new)`;
    }
    notifyWhenHidden(`Message from ${from}`, body, `message-${from}`);
  },
  contactStatus(user: string, status: ContactStatus) {
    statuses.set(user, { ...statuses.get(user), ...status });
    renderContacts();
  },
};

for (const key of KEYS) {
  const button = el('button', { type: 'button' }, key);
  button.addEventListener('click', () => {
    tones.key(key);
    byId<HTMLInputElement>('dial-target').value += key;
  });
  byId('dial-keys').append(button);
}

// ------------------------------------------------------------------ dialling

byId<HTMLFormElement>('dial').addEventListener('submit', (event) => {
  event.preventDefault();
  void dial(byId<HTMLInputElement>('dial-target').value.trim());
});

async function dial(target: string): Promise<void> {
  const error = byId('dial-error');
  error.textContent = '';
  if (phone === undefined || target === '') return;
  try {
    await phone.dial(target);
  } catch (failure) {
    error.textContent = failure instanceof Error ? failure.message : 'the call could not be made';
  }
}

// ------------------------------------------------------------------ contacts

byId<HTMLFormElement>('add-contact').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('contact-name');
  const name = input.value.trim();
  if (store === undefined || name === '') return;
  store.setContacts([...store.contacts(), name]);
  phone?.watch(name);
  input.value = '';
  renderContacts();
});

function statusText(status: ContactStatus | undefined): { text: string; state: string } {
  if (status?.activity === 'busy') return { text: 'on a call', state: 'busy' };
  if (status?.activity === 'ringing') return { text: 'ringing', state: 'ringing' };
  if (status?.online === true) return { text: 'available', state: 'online' };
  if (status?.online === false) return { text: 'offline', state: 'offline' };
  return { text: 'unknown', state: 'unknown' };
}

function renderContacts(): void {
  const list = byId('contacts');
  const contacts = store?.contacts() ?? [];
  list.replaceChildren(...contacts.map((contact) => {
    const { text, state } = statusText(statuses.get(contact));
    const call = el('button', { type: 'button', 'aria-label': `Call ${contact}` }, 'Call');
    call.addEventListener('click', () => void dial(contact));
    const chat = el('button', { type: 'button', 'aria-label': `Chat with ${contact}` }, 'Chat');
    chat.addEventListener('click', () => openChat(contact));
    const remove = el('button', { type: 'button', 'aria-label': `Remove ${contact}` }, 'Remove');
    remove.addEventListener('click', () => {
      store?.setContacts((store?.contacts() ?? []).filter((name) => name !== contact));
      phone?.unwatch(contact);
      statuses.delete(contact);
      renderContacts();
    });
    return el('li', {}, el('span', { class: 'dot', 'data-state': state, 'aria-hidden': 'true' }), el('span', { class: 'grow' }, contact, el('small', {}, ` ${text}`)), call, chat, remove);
  }));
  if (contacts.length === 0) list.append(el('li', {}, 'No contacts yet.'));
}

// ------------------------------------------------------------------ chat

function openChat(peer: string): void {
  byId<HTMLInputElement>('chat-peer').value = peer;
  selectTab('tab-chat');
  renderConversation();
  byId('chat-text').focus();
}

function clearUnread(): void {
  unread = 0;
  byId('unread').textContent = '';
}

byId('chat-peer').addEventListener('change', () => renderConversation());

byId<HTMLFormElement>('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const peer = byId<HTMLInputElement>('chat-peer').value.trim();
  const input = byId<HTMLInputElement>('chat-text');
  const body = input.value;
  if (phone === undefined || store === undefined || peer === '' || body === '') return;
  input.value = '';
  const at = Date.now();
  const sent = store;
  phone
    .sendMessage(peer, body)
    .then((status) => (status < 300 ? (status === 202 ? 'stored for later' : 'delivered') : `not delivered (${status})`))
    .catch(() => 'not sent')
    .then((status) => {
      sent.addLine(peer, { at, from: 'me', body, status });
      renderChatPeers();
      renderConversation();
    });
});

function renderChatPeers(): void {
  const peers = new Set([...(store?.conversationPeers() ?? []), ...(store?.contacts() ?? [])]);
  byId('chat-peers').replaceChildren(...[...peers].map((peer) => el('option', { value: peer })));
}

function renderConversation(): void {
  const peer = byId<HTMLInputElement>('chat-peer').value.trim();
  const lines: ChatLine[] = store?.conversation(peer) ?? [];
  byId('chat-log').replaceChildren(
    ...lines.map((line) =>
      el('li', { class: line.from }, el('span', { class: 'who' }, line.from === 'me' ? 'You' : peer), ' ', line.body, el('small', {}, ` ${clock(line.at)}${line.status === undefined ? '' : `, ${line.status}`}`)),
    ),
  );
}

// ------------------------------------------------------------------ history

byId('clear-history').addEventListener('click', () => {
  store?.clearHistory();
  renderHistory();
});

function renderHistory(): void {
  const records = store?.history() ?? [];
  const list = byId('history');
  list.replaceChildren(...records.map((record) => {
    const again = el('button', { type: 'button', 'aria-label': `Call ${record.peer} back` }, 'Call back');
    again.addEventListener('click', () => {
      selectTab('tab-dial');
      void dial(record.peer);
    });
    const what = record.durationMs > 0 ? `${duration(record.durationMs)}, ${record.outcome}` : record.outcome;
    return el('li', {}, el('span', { class: 'grow' }, `${record.direction === 'incoming' ? '← from' : '→ to'} ${record.peer}`, el('small', {}, ` ${clock(record.at)}, ${what}`)), again);
  }));
  if (records.length === 0) list.append(el('li', {}, 'No calls yet.'));
}

// ------------------------------------------------------------------ settings

async function refreshDevices(): Promise<void> {
  await fillDeviceChoices(byId<HTMLSelectElement>('microphone'), byId<HTMLSelectElement>('speaker'), byId('speaker-field'));
}

byId<HTMLSelectElement>('microphone').addEventListener('change', (event) => {
  const value = (event.target as HTMLSelectElement).value;
  phone?.setMicrophone(value === '' ? undefined : value);
});

byId<HTMLSelectElement>('speaker').addEventListener('change', (event) => {
  void useSpeaker(remoteAudio, (event.target as HTMLSelectElement).value);
});

function renderNotificationState(): void {
  const state = byId('notifications-state');
  const button = byId<HTMLButtonElement>('notifications');
  if (!notificationsAvailable()) {
    button.disabled = true;
    state.textContent = 'This browser has no notifications.';
    return;
  }
  state.textContent = { granted: 'On while this page is in the background.', denied: 'Blocked in the browser settings.', default: '' }[Notification.permission];
  button.disabled = Notification.permission !== 'default';
}

byId('notifications').addEventListener('click', () => void askNotificationPermission().then(renderNotificationState));
renderNotificationState();

const provisioningToken = takeProvisioningToken();
if (provisioningToken !== undefined) void signInWithLink(provisioningToken);

window.addEventListener('beforeunload', () => {
  void phone?.stop();
});
