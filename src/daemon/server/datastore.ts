import path from 'node:path';
import type { Engine } from './store/engine.js';
import { StoreError } from './store/engine.js';
import { MemoryEngine } from './store/memory-engine.js';
import { SqliteEngine } from './store/sqlite-engine.js';

/** Opens the engine a `--datastore` URL names: `sqlite://PATH` (default), `memory://`. */
export function openDatastore(url: string, dataDir: string): Engine {
  if (url === 'memory://' || url === 'memory') return new MemoryEngine();
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    return new SqliteEngine(path.resolve(dataDir, file || 'state.db'));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new StoreError('config', '--datastore postgres:// is not available yet: this pm8s has the sqlite engine only');
  }
  throw new StoreError('config', `--datastore ${JSON.stringify(url)} is not a datastore URL: use sqlite://PATH or memory://`);
}
