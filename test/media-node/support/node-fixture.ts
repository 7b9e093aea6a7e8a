/**
 * One media node for a whole control API test file, and per-test cleanup. A file calls
 * `useMediaNode` at its top level: the node starts before the file's first test and stops after its
 * last; what a test tracks is closed after it, newest first, along with the sessions it asked to
 * have deleted.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Environment } from '../../../media-node/config/index.ts';
import type { MediaNodeServiceOptions } from '../../../media-node/service/index.ts';
import { startNode, type NodeRig } from './media-node-rig.ts';

export interface MediaNodeFixture {
  /** The file's node; usable inside tests and hooks, once it has started. */
  readonly node: NodeRig;
  /** A fresh session id (`<prefix>-<pid>-<n>`) whose session is deleted after the test. */
  newId(): string;
  /** A fresh session id, left alone after the test. */
  plainId(): string;
  /** Deletes session `id` (if it is still there) after the test. */
  deleteAfter(id: string): void;
  /** Closes what `made` resolves to after the test. */
  track<T extends { close(): Promise<void> }>(made: Promise<T> | T): Promise<T>;
}

export function useMediaNode(prefix: string, env: Environment = {}, options: MediaNodeServiceOptions = {}): MediaNodeFixture {
  let rig: NodeRig | undefined;
  beforeAll(async () => {
    rig = await startNode(env, options);
  });
  afterAll(async () => {
    await rig?.close();
  });

  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  const started = (): NodeRig => {
    if (rig === undefined) throw new Error('the media node has not started: use it inside a test or a hook');
    return rig;
  };
  const node: NodeRig = {
    get service() {
      return started().service;
    },
    get client() {
      return started().client;
    },
    get edge() {
      return started().edge;
    },
    close: () => started().close(),
  };

  let serial = 0;
  const plainId = (): string => `${prefix}-${process.pid}-${++serial}`;
  const deleteAfter = (id: string): void => {
    cleanup.push(async () => {
      await node.client.request('DELETE', `/v1/sessions/${id}`);
    });
  };
  return {
    node,
    plainId,
    deleteAfter,
    newId: () => {
      const id = plainId();
      deleteAfter(id);
      return id;
    },
    track: async (made) => {
      const value = await made;
      cleanup.push(() => value.close());
      return value;
    },
  };
}
