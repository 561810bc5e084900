/** ConfigMaps and Secrets: only the number of keys, never the values. */
import { ageSince } from './format-age.js';
import { count, creationOf, nameOf, str } from './fields.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table.js';

export const configMapPrinter: KindPrinter = {
  columns: [nameColumn, column('Data'), ageColumn],
  cells: (configMap, now) => [
    nameOf(configMap),
    count(configMap.data) + count(configMap.binaryData),
    ageSince(creationOf(configMap), now),
  ],
};

export const secretPrinter: KindPrinter = {
  columns: [nameColumn, column('Type'), column('Data'), ageColumn],
  // type defaults to Opaque in the API.
  cells: (secret, now) => [nameOf(secret), str(secret.type) || 'Opaque', count(secret.data), ageSince(creationOf(secret), now)],
};
