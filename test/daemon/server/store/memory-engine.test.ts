import t from 'tap';
import { MemoryEngine } from '../../../../src/daemon/server/store/memory-engine.js';
import { engineConformance } from '../../../helpers/store-conformance.js';

engineConformance(t, async () => ({ engine: new MemoryEngine() }));
