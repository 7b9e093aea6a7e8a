/**
 * A user's sign-in link for /phone: the edge's one-time provisioning link
 * (`<origin>/provision/<token>`) becomes `<origin>/phone#provision=<token>`, which the softphone
 * opens itself (the fragment stays out of server logs), shown as text and as a QR code for a phone's
 * camera.
 */
import { renderSVG } from 'uqr';

export function phoneLinkFor(provisioningUrl: string): string {
  const url = new URL(provisioningUrl, location.origin);
  const token = url.pathname.split('/').pop() ?? '';
  return `${url.origin}/phone#provision=${encodeURIComponent(token)}`;
}

/** The QR code as an SVG element (parsed, never inserted as HTML). */
export function qrCode(text: string): Element {
  const svg = new DOMParser().parseFromString(renderSVG(text, { border: 2 }), 'image/svg+xml').documentElement;
  svg.setAttribute('width', '200');
  svg.setAttribute('height', '200');
  svg.setAttribute('aria-hidden', 'true');
  return svg;
}
