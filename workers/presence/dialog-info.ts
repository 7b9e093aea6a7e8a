/**
 * The `dialog` event package (RFC 4235), the busy-lamp field: the user's calls, read from the
 * B2BUA halves its object holds (`workers/call/call-half.ts`), as a dialog-info document.
 *
 * RFC 4235 §3.7.1 states, from a half:
 * - trying: set-up, nothing heard yet (the caller's INVITE is pending; the fork has no 18x);
 * - early: a provisional with a tag (the caller got a 18x and an early dialog; a branch rings);
 * - confirmed: the half's leg is up;
 * - terminated: the half ended.
 */
import type { HalfCall } from '../call/call-half.ts';
import { xmlEscape } from './pidf.ts';

export type DialogState = 'trying' | 'early' | 'confirmed' | 'terminated';

export interface DialogView {
  readonly id: string;
  readonly callId: string;
  readonly direction: 'initiator' | 'recipient';
  readonly state: DialogState;
  readonly local: string;
  readonly remote: string;
  readonly localTag?: string;
  readonly remoteTag?: string;
}

export function dialogStateOf(half: HalfCall): DialogState {
  switch (half.phase) {
    case 'ended':
      return 'terminated';
    case 'confirmed':
      return 'confirmed';
    case 'setup':
      if (half.setup.kind === 'caller') return half.dialog === undefined ? 'trying' : 'early';
      return half.setup.branches.some((branch) => branch.state === 'ringing') ? 'early' : 'trying';
  }
}

export function dialogViewOf(half: HalfCall, state: DialogState = dialogStateOf(half)): DialogView {
  const localTag = half.dialog?.id.localTag;
  const remoteTag = half.dialog?.id.remoteTag;
  return {
    // RFC 4235 §4.1.1: the id identifies the dialog within the document; the call's id and role do.
    id: `${half.role}-${half.id}`,
    callId: half.callId,
    direction: half.role === 'caller' ? 'initiator' : 'recipient',
    state,
    local: `sip:${half.aor}`,
    remote: `sip:${half.peerAor}`,
    ...(localTag === undefined ? {} : { localTag }),
    ...(remoteTag === undefined || remoteTag === '' ? {} : { remoteTag }),
  };
}

/** RFC 4235 §4.1: a full-state document; `version` counts the documents of one subscription from 0. */
export function dialogInfoDocument(entity: string, version: number, dialogs: readonly DialogView[]): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${xmlEscape(entity)}">`,
  ];
  for (const dialog of dialogs) {
    const tags = `${dialog.localTag === undefined ? '' : ` local-tag="${xmlEscape(dialog.localTag)}"`}${dialog.remoteTag === undefined ? '' : ` remote-tag="${xmlEscape(dialog.remoteTag)}"`}`;
    lines.push(
      `  <dialog id="${xmlEscape(dialog.id)}" call-id="${xmlEscape(dialog.callId)}"${tags} direction="${dialog.direction}">`,
      `    <state>${dialog.state}</state>`,
      `    <local><identity>${xmlEscape(dialog.local)}</identity></local>`,
      `    <remote><identity>${xmlEscape(dialog.remote)}</identity></remote>`,
      '  </dialog>',
    );
  }
  lines.push('</dialog-info>', '');
  return lines.join('\r\n');
}
