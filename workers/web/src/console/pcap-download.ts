/**
 * Saves one call of a user's SIP trace as a pcap file (`GET /users/:u/trace?format=pcap&callId=`),
 * the file Wireshark and sngrep open, and says how it went in `note`.
 */
import { el } from '../common/dom.ts';
import { apiFetch, endpointMissing } from './api.ts';

export function downloadPcap(user: string, callId: string, note: HTMLElement): void {
  note.textContent = 'Preparing…';
  apiFetch(`/users/${encodeURIComponent(user)}/trace?format=pcap&callId=${encodeURIComponent(callId)}&limit=2000`)
    .then(async (response) => {
      const type = response.headers.get('Content-Type') ?? '';
      if (!type.includes('pcap') && !type.includes('octet-stream')) throw new Error('this edge has no pcap export of traces yet');
      const url = URL.createObjectURL(await response.blob());
      const link = el('a', { href: url, download: `${user}-${callId.replace(/[^\w.-]+/g, '_')}.pcap` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      note.textContent = 'Downloaded.';
    })
    .catch((error: unknown) => (note.textContent = endpointMissing(error) ? 'This edge has no pcap export of traces yet.' : error instanceof Error ? error.message : String(error)));
}
