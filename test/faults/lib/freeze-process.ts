// Freezes every Redis connection of one pophook process in the Redis proxy: the process's Redis goes
// silent (a half-open link: no error, no close, no reply), which is how a worker wedges after a network
// blip. Which connections are the process's comes from `ss -tnp` (local port → pid).
import { execFileSync } from 'node:child_process';
import type { RedisLink } from './world.ts';

export function freezeProcess(link: RedisLink, pid: number): number {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' });
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const [local = '', peer = ''] = line.trim().split(/\s+/).slice(2, 4);
    if (!peer.endsWith(`:${link.proxy.port}`)) continue;
    ports.add(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  let frozen = 0;
  for (const [id, port] of link.clientPorts) {
    if (!ports.has(port)) continue;
    link.proxy.freeze(id);
    frozen += 1;
  }
  return frozen;
}
