/**
 * What a MESSAGE costs the recipient's storage: one that a device takes at once is never written,
 * so a delivered message costs no row write (`messages.test.ts` covers the ones that are stored).
 */
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { userStub } from './support/users.ts';

/** Whether the user's object ever wrote a stored message (the table appears with the first write). */
async function messageTableExists(user: string): Promise<boolean> {
  return runInDurableObject(userStub(user), (_instance: SipUser, state) =>
    state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'stored_message'").toArray().length > 0);
}

describe('MESSAGE storage', () => {
  it('writes nothing for messages a device takes at once', async () => {
    const [alice, bob] = await freshUsers('st-alice', 'st-bob');
    const sender = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    for (const body of ['eins', 'zwei', 'drei']) {
      const answered = sender.message(bob!, body);
      const received = await phone.expectRequest('MESSAGE');
      expect(bodyText(received)).toBe(body);
      phone.respond(received, 200, { toTag: body });
      expect((await answered).status).toBe(200);
    }
    expect(await messageTableExists(bob!)).toBe(false);
    sender.socket.close();
    phone.socket.close();
  });
});
