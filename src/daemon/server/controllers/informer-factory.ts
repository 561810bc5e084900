/** Shared informers: one cache per resource for every controller, started together by the manager. */
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { ApiClient } from '../../../client/api-client.js';
import { Informer } from '../../../client/informer.js';
import { byOwnerUid, InformerIndex } from '../../../client/informer-index.js';
import type { Logger } from '../../../lib/logger.js';

export class InformerFactory {
  readonly #client: ApiClient;
  readonly #logger: Logger;
  readonly #informers = new Map<string, Informer>();
  readonly #indexes = new Map<string, InformerIndex>();
  #started = false;

  constructor(client: ApiClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** The shared informer of a resource; ask before `start`, from a controller's setup. */
  informer(info: ResourceInfo): Informer {
    let informer = this.#informers.get(info.resource);
    if (!informer) {
      if (this.#started) throw new Error(`informer for ${info.resource} requested after the informers started`);
      informer = new Informer(this.#client, info, { logger: this.#logger });
      this.#informers.set(info.resource, informer);
      // Every controller that owns objects looks them up by owner; index it before any handler runs.
      this.#indexes.set(`${info.resource}/owner`, new InformerIndex(informer, byOwnerUid));
    }
    return informer;
  }

  /** A named secondary index over a resource's informer, created on first use (before `start`). */
  index(info: ResourceInfo, name: string, valuesOf?: (object: KubeObject) => readonly string[]): InformerIndex {
    const informer = this.informer(info);
    const key = `${info.resource}/${name}`;
    let index = this.#indexes.get(key);
    if (!index) {
      if (!valuesOf) throw new Error(`no index ${name} on ${info.resource}`);
      if (this.#started) throw new Error(`index ${name} on ${info.resource} requested after the informers started`);
      index = new InformerIndex(informer, valuesOf);
      this.#indexes.set(key, index);
    }
    return index;
  }

  /** Objects of `info` owned (ownerReferences) by the object with this uid. */
  ownedBy(info: ResourceInfo, ownerUid: string): KubeObject[] {
    return this.index(info, 'owner').get(ownerUid);
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#started = true;
    for (const informer of this.#informers.values()) informer.start(signal);
    await Promise.all([...this.#informers.values()].map((informer) => informer.waitForSync(signal)));
  }
}
