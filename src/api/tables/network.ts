/** Services, Endpoints and Ingresses. */
import type { KubeObject } from '../types.js';
import { ageSince } from './format-age.js';
import { at, creationOf, formatLabels, int, nameOf, rec, recs, str, strs } from './fields.js';
import { ageColumn, column, nameColumn, wideColumn, type KindPrinter } from './table.js';

/** How many items list cells show before "+ N more...". */
const LIST_LIMIT = 3;

const withMore = (list: string[], total: number): string =>
  total > LIST_LIMIT ? `${list.join(',')} + ${total - LIST_LIMIT} more...` : list.join(',');

/** Distinct IPs (or hostnames) of a load balancer status, sorted. The server prints them unclipped (wide). */
function loadBalancerAddresses(status: unknown): string {
  const addresses = recs(at(status, 'loadBalancer', 'ingress')).map((entry) => str(entry.ip) || str(entry.hostname));
  return [...new Set(addresses.filter((address) => address !== ''))].sort().join(',');
}

function serviceExternalIP(service: KubeObject, type: string): string {
  const externalIPs = strs(at(service.spec, 'externalIPs'));
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const balancer = loadBalancerAddresses(service.status);
      if (externalIPs.length > 0) return [...(balancer ? balancer.split(',') : []), ...externalIPs].join(',');
      return balancer || '<pending>';
    }
    case 'ExternalName':
      return str(at(service.spec, 'externalName'));
    default:
      return '<unknown>';
  }
}

function servicePorts(service: KubeObject): string {
  const ports = recs(at(service.spec, 'ports')).map((port) => {
    const protocol = str(port.protocol) || 'TCP';
    const nodePort = int(port.nodePort);
    return nodePort > 0 ? `${int(port.port)}:${nodePort}/${protocol}` : `${int(port.port)}/${protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
}

export const servicePrinter: KindPrinter = {
  columns: [nameColumn, column('Type'), column('Cluster-IP'), column('External-IP'), column('Port(s)'), ageColumn, wideColumn('Selector')],
  cells(service, now) {
    const spec = rec(service.spec);
    // type defaults to ClusterIP in the API.
    const type = str(spec.type) || 'ClusterIP';
    return [
      nameOf(service),
      type,
      strs(spec.clusterIPs)[0] || str(spec.clusterIP) || '<none>',
      serviceExternalIP(service, type),
      servicePorts(service),
      ageSince(creationOf(service), now),
      formatLabels(spec.selector),
    ];
  },
};

/** net.JoinHostPort: brackets around IPv6 hosts. */
const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function formatEndpoints(endpoints: KubeObject): string {
  const subsets = recs(endpoints.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let total = 0;
  for (const subset of subsets) {
    const addresses = recs(subset.addresses).map((address) => str(address.ip));
    const ports = recs(subset.ports);
    // Headless services may have no ports.
    const entries = ports.length === 0 ? [addresses] : ports.map((port) => addresses.map((ip) => joinHostPort(ip, int(port.port))));
    for (const entry of entries) {
      total += entry.length;
      list.push(...entry.slice(0, Math.max(0, LIST_LIMIT - list.length)));
    }
  }
  return withMore(list, total);
}

export const endpointsPrinter: KindPrinter = {
  columns: [nameColumn, column('Endpoints'), ageColumn],
  cells: (endpoints, now) => [nameOf(endpoints), formatEndpoints(endpoints), ageSince(creationOf(endpoints), now)],
};

function formatHosts(rules: Record<string, unknown>[]): string {
  const hosts: string[] = [];
  let more = false;
  // Like Kubernetes: "more" only once three hosts are listed, yet it counts every rule past the third.
  for (const rule of rules) {
    if (hosts.length === LIST_LIMIT) more = true;
    if (!more && str(rule.host) !== '') hosts.push(str(rule.host));
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${rules.length - LIST_LIMIT} more...` : hosts.join(',');
}

export const ingressPrinter: KindPrinter = {
  columns: [nameColumn, column('Class'), column('Hosts'), column('Address'), column('Ports'), ageColumn],
  cells(ingress, now) {
    const spec = rec(ingress.spec);
    return [
      nameOf(ingress),
      str(spec.ingressClassName) || '<none>',
      formatHosts(recs(spec.rules)),
      loadBalancerAddresses(ingress.status),
      recs(spec.tls).length > 0 ? '80, 443' : '80',
      ageSince(creationOf(ingress), now),
    ];
  },
};
