import { expect } from 'vitest';

/**
 * What a Durable Object gets back after storing `value` and being evicted: a JSON copy. Asserts the
 * copy is equal, so a test that threads every state through this proves the state is plain JSON.
 */
export function persisted<T>(value: T): T {
  const copy = JSON.parse(JSON.stringify(value)) as T;
  expect(copy).toEqual(value);
  return copy;
}
