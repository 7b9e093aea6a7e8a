/**
 * Microphone and speaker choice: lists the audio devices (labels appear once the page may use the
 * microphone), fills the two <select>s and routes the call's audio element to the chosen speaker
 * with setSinkId where the browser has it (the speaker choice is hidden where it does not).
 */
import { el } from '../common/dom.ts';

export async function fillDeviceChoices(microphones: HTMLSelectElement, speakers: HTMLSelectElement, speakerField: HTMLElement): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
  const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, fallback: string): void => {
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '' }, 'System default'));
    devices
      .filter((device) => device.kind === kind && device.deviceId !== '' && device.deviceId !== 'default')
      .forEach((device, index) => select.append(el('option', { value: device.deviceId }, device.label || `${fallback} ${index + 1}`)));
    select.value = [...select.options].some((option) => option.value === chosen) ? chosen : '';
  };
  fill(microphones, 'audioinput', 'Microphone');
  fill(speakers, 'audiooutput', 'Speaker');
  speakerField.hidden = !speakerSelectionSupported();
}

export function speakerSelectionSupported(): boolean {
  return 'setSinkId' in HTMLMediaElement.prototype;
}

export async function useSpeaker(audio: HTMLAudioElement, deviceId: string): Promise<void> {
  if (!speakerSelectionSupported()) return;
  await (audio as HTMLAudioElement & { setSinkId(id: string): Promise<void> }).setSinkId(deviceId);
}
