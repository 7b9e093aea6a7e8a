/**
 * Reads the NOTIFY bodies of the two event packages the softphone watches for each contact:
 * `presence` (RFC 3863 PIDF: the first tuple's basic status, open or closed) and `dialog`
 * (RFC 4235 dialog-info: any dialog early is ringing, any confirmed is busy, none is idle).
 */
export interface ContactStatus {
  /** From the presence package: undefined until a NOTIFY with a body said. */
  readonly online?: boolean;
  /** From the dialog package. */
  readonly activity?: 'idle' | 'ringing' | 'busy';
}

export function parsePresence(event: 'presence' | 'dialog', body: string): ContactStatus | undefined {
  if (body.trim() === '') return undefined;
  const document = new DOMParser().parseFromString(body, 'application/xml');
  if (document.getElementsByTagName('parsererror').length > 0) return undefined;
  if (event === 'presence') {
    const basic = document.getElementsByTagNameNS('*', 'basic')[0]?.textContent?.trim().toLowerCase();
    return basic === undefined ? undefined : { online: basic === 'open' };
  }
  const states = [...document.getElementsByTagNameNS('*', 'state')].map((element) => element.textContent?.trim().toLowerCase());
  if (states.includes('confirmed')) return { activity: 'busy' };
  if (states.includes('early') || states.includes('proceeding') || states.includes('trying')) return { activity: 'ringing' };
  return { activity: 'idle' };
}
