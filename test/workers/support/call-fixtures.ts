/** Users and clocks for the call and message tests: fresh users per test (storage persists per file). */
import { runInDurableObject } from 'cloudflare:test';
import type { SipUser } from '../../../workers/user/sip-user.ts';
import type { HalfCall } from '../../../workers/call/call-half.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createUser, userStub } from './users.ts';

export const PASSWORD = 'correct horse battery';

let serial = 0;

/** New users named after `names`, with a suffix no other test uses. */
export async function freshUsers(...names: string[]): Promise<string[]> {
  serial += 1;
  const created = names.map((name) => `${name}${serial}`);
  for (const name of created) await createUser(name, PASSWORD);
  return created;
}

/**
 * A fake clock for `user`'s object, a day ahead of real time: every deadline it arms lies far in
 * the future of the real alarm, so only `runDurableObjectAlarm` fires it, after `advance`.
 */
export async function fakeClockFor(user: string): Promise<FakeClock> {
  const clock = new FakeClock(Date.now() + 86_400_000);
  await runInDurableObject(userStub(user), (instance: SipUser) => {
    instance.clock = clock;
  });
  return clock;
}

export async function callsOf(user: string): Promise<HalfCall[]> {
  return userStub(user).listCalls();
}
