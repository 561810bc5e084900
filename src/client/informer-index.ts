/** A secondary index over an informer's cache (client-go's Indexer): objects by a derived value. */
import { objectKey } from '../api/meta.js';
import type { KubeObject } from '../api/types.js';
import type { Informer } from './informer.js';

export class InformerIndex {
  readonly #informer: Informer;
  readonly #valuesOf: (object: KubeObject) => readonly string[];
  readonly #keysByValue = new Map<string, Set<string>>();

  /** Register before the informer starts, so no event is missed. */
  constructor(informer: Informer, valuesOf: (object: KubeObject) => readonly string[]) {
    this.#informer = informer;
    this.#valuesOf = valuesOf;
    informer.on('add', (object) => this.#insert(object));
    informer.on('update', (old, object) => {
      this.#remove(old);
      this.#insert(object);
    });
    informer.on('delete', (object) => this.#remove(object));
  }

  /** The cached objects whose derived values include `value` (read-only, like every cached object). */
  get(value: string): KubeObject[] {
    const keys = this.#keysByValue.get(value);
    if (!keys) return [];
    const objects: KubeObject[] = [];
    for (const key of keys) {
      const slash = key.indexOf('/');
      const object = slash < 0 ? this.#informer.get(undefined, key) : this.#informer.get(key.slice(0, slash), key.slice(slash + 1));
      if (object) objects.push(object);
    }
    return objects;
  }

  #insert(object: KubeObject): void {
    const key = objectKey(object);
    for (const value of this.#valuesOf(object)) {
      let keys = this.#keysByValue.get(value);
      if (!keys) this.#keysByValue.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #remove(object: KubeObject): void {
    const key = objectKey(object);
    for (const value of this.#valuesOf(object)) {
      const keys = this.#keysByValue.get(value);
      keys?.delete(key);
      if (keys?.size === 0) this.#keysByValue.delete(value);
    }
  }
}

/** Index functions the controllers share. */
export const byOwnerUid = (object: KubeObject): string[] => (object.metadata.ownerReferences ?? []).map((owner) => owner.uid);
export const byNamespace = (object: KubeObject): string[] => (object.metadata.namespace ? [object.metadata.namespace] : []);
