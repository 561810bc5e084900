/** Every controller the server runs; adding one = one file + one line here. */
import type { Controller } from './controller.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment.js';
import { GarbageCollector } from './garbage-collector.js';
import { NamespaceController } from './namespace.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { PodGarbageCollector } from './pod-gc.js';
import { ReplicaSetController } from './replicaset.js';
import { StatefulSetController } from './statefulset.js';
import { TaintEvictionController } from './taint-eviction.js';
import { Scheduler } from '../scheduler/scheduler.js';

export function createControllers(): Controller[] {
  return [
    new NodeLifecycleController(),
    new TaintEvictionController(),
    new Scheduler(),
    new ReplicaSetController(),
    new DeploymentController(),
    new DaemonSetController(),
    new StatefulSetController(),
    new GarbageCollector(),
    new NamespaceController(),
    new PodGarbageCollector(),
  ];
}
