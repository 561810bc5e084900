/** Deployments, ReplicaSets, StatefulSets and DaemonSets. */
import type { KubeObject } from '../types.js';
import { ageSince } from './format-age.js';
import {
  at,
  creationOf,
  formatLabels,
  formatLabelSelector,
  int,
  layoutContainerCells,
  nameOf,
  selectorString,
  templateSpecOf,
} from './fields.js';
import { ageColumn, column, nameColumn, wideColumn, type KindPrinter } from './table.js';

/** spec.replicas defaults to 1 in the API, so an object without it asks for one. */
const desiredReplicas = (object: KubeObject): number => int(at(object.spec, 'replicas'), 1);
const statusInt = (object: KubeObject, field: string): number => int(at(object.status, field));

const templateColumns = [wideColumn('Containers'), wideColumn('Images')];

export const deploymentPrinter: KindPrinter = {
  columns: [nameColumn, column('Ready'), column('Up-to-date'), column('Available'), ageColumn, ...templateColumns, wideColumn('Selector')],
  cells(deployment, now) {
    return [
      nameOf(deployment),
      `${statusInt(deployment, 'readyReplicas')}/${desiredReplicas(deployment)}`,
      statusInt(deployment, 'updatedReplicas'),
      statusInt(deployment, 'availableReplicas'),
      ageSince(creationOf(deployment), now),
      ...layoutContainerCells(templateSpecOf(deployment)),
      selectorString(at(deployment.spec, 'selector')) ?? '<invalid>',
    ];
  },
};

export const replicaSetPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Desired', 'integer'),
    column('Current', 'integer'),
    column('Ready', 'integer'),
    ageColumn,
    ...templateColumns,
    wideColumn('Selector'),
  ],
  cells(replicaSet, now) {
    return [
      nameOf(replicaSet),
      desiredReplicas(replicaSet),
      statusInt(replicaSet, 'replicas'),
      statusInt(replicaSet, 'readyReplicas'),
      ageSince(creationOf(replicaSet), now),
      ...layoutContainerCells(templateSpecOf(replicaSet)),
      formatLabelSelector(at(replicaSet.spec, 'selector')),
    ];
  },
};

export const statefulSetPrinter: KindPrinter = {
  columns: [nameColumn, column('Ready'), ageColumn, ...templateColumns],
  cells(statefulSet, now) {
    return [
      nameOf(statefulSet),
      `${statusInt(statefulSet, 'readyReplicas')}/${desiredReplicas(statefulSet)}`,
      ageSince(creationOf(statefulSet), now),
      ...layoutContainerCells(templateSpecOf(statefulSet)),
    ];
  },
};

export const daemonSetPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Desired', 'integer'),
    column('Current', 'integer'),
    column('Ready', 'integer'),
    column('Up-to-date', 'integer'),
    column('Available', 'integer'),
    column('Node Selector'),
    ageColumn,
    ...templateColumns,
    wideColumn('Selector'),
  ],
  cells(daemonSet, now) {
    return [
      nameOf(daemonSet),
      statusInt(daemonSet, 'desiredNumberScheduled'),
      statusInt(daemonSet, 'currentNumberScheduled'),
      statusInt(daemonSet, 'numberReady'),
      statusInt(daemonSet, 'updatedNumberScheduled'),
      statusInt(daemonSet, 'numberAvailable'),
      formatLabels(at(templateSpecOf(daemonSet), 'nodeSelector')),
      ageSince(creationOf(daemonSet), now),
      ...layoutContainerCells(templateSpecOf(daemonSet)),
      formatLabelSelector(at(daemonSet.spec, 'selector')),
    ];
  },
};
