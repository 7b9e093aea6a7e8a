import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { answerLiteralsAtOnce } from '../../../media-node/udp-literal-lookup.ts';

const sockets: Socket[] = [];

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe('answerLiteralsAtOnce', () => {
  it('sends to an IP literal within the same tick, and still resolves host names', async () => {
    const [sender, receiver] = await Promise.all([bound(), bound()]);
    expect(answerLiteralsAtOnce(sender)).toBe(true);
    expect(answerLiteralsAtOnce(sender)).toBe(true);
    const port = receiver.address().port;
    const arrived: string[] = [];
    receiver.on('message', (message) => arrived.push(message.toString()));

    // The default lookup defers every send to the next tick: a send followed at once by close()
    // would then be lost (ERR_SOCKET_DGRAM_NOT_RUNNING). A fitted socket has sent it already.
    const closing = await bound();
    answerLiteralsAtOnce(closing);
    const failures: unknown[] = [];
    closing.send('literal', port, '127.0.0.1', (error) => error && failures.push(error));
    closing.close();
    sockets.splice(sockets.indexOf(closing), 1);

    sender.send('name', port, 'localhost');
    await expect.poll(() => [...arrived].sort(), { timeout: 5000 }).toEqual(['literal', 'name']);
    expect(failures).toEqual([]);
  });

  it('leaves alone what is not a dgram socket', () => {
    expect(answerLiteralsAtOnce({} as Socket)).toBe(false);
  });
});
