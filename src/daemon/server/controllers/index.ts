/** Every controller the server runs; adding one = one file + one line here. */
import type { Controller } from './controller.js';

export function createControllers(): Controller[] {
  return [];
}
