/**
 * Preloaded into the reference rig's load generator (`node --import`): when the rig's folder has no
 * `node_modules/ws` of its own (its README installs it with `npm install` in `loadgen/`), the bare
 * specifier `ws` resolves to the copy this project already has (a dependency of wrangler and
 * miniflare), so the rig's code runs unmodified and without writing into the shared folder. A copy
 * in the rig's folder, when present, still wins: Node's own resolution is tried first.
 */
import { registerHooks } from 'node:module';

const PROJECT_ROOT = new URL('../../../', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier !== 'ws' && !specifier.startsWith('ws/')) throw error;
      return nextResolve(specifier, { ...context, parentURL: PROJECT_ROOT });
    }
  },
});
