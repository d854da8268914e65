import type { Aedes } from 'aedes';
import type { BrokerCounts } from './context.js';
import type { Listener, Ports } from './listeners.js';
import type { ComponentHealth } from './types.js';

/** Down once closing; degraded while a listener has failed since it started; else who is connected where. */
export function brokerHealth(
  aedes: Aedes,
  listeners: Listener[],
  ports: Ports,
  counts: BrokerCounts,
  closing: boolean,
): ComponentHealth {
  const broken = listeners.filter((l) => l.failed);
  const listening = Object.entries(ports)
    .map(([name, port]) => `${name} :${port}`)
    .join(', ');
  if (closing) return { status: 'down', detail: 'broker stopped' };
  if (broken.length > 0) {
    return {
      status: 'degraded',
      detail: `listener failed: ${broken.map((l) => `${l.name} (${l.failed})`).join('; ')}`,
      ...counts,
    };
  }
  return {
    status: 'ok',
    detail: `${aedes.connectedClients} clients; listening on ${listening}`,
    clients: aedes.connectedClients,
    ...counts,
  };
}
