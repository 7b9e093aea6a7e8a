/**
 * Browser notifications for incoming calls and messages, only while the page is hidden (a visible
 * page shows them itself). Permission is asked from a button, never on load.
 */
export function notificationsAvailable(): boolean {
  return 'Notification' in window;
}

export async function askNotificationPermission(): Promise<NotificationPermission> {
  if (!notificationsAvailable()) return 'denied';
  return Notification.requestPermission();
}

export function notifyWhenHidden(title: string, body: string, tag: string): void {
  if (!notificationsAvailable() || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
