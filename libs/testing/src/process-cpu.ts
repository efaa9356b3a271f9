/**
 * CPU seconds of processes from /proc (Linux): what a benchmark's processes, PostgreSQL and the Kafka broker
 * spent between two snapshots. 0 for a process that has exited (or off Linux).
 */
import { readFile, readdir } from 'node:fs/promises';

/** CPU seconds (user + system) of a process and its reaped children, from /proc/<pid>/stat; 0 once it has exited. */
async function cpuOfPid(pid: number): Promise<{ comm: string; ppid: number; self: number; children: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const close = stat.lastIndexOf(')');
  if (close < 0) return { comm: '', ppid: 0, self: 0, children: 0 };
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  // Fields after the command name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
  const fields = stat.slice(close + 2).split(' ');
  const tick = (i: number) => Number(fields[i - 3]) / 100;
  return { comm, ppid: Number(fields[1]), self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

/**
 * CPU seconds used so far per service, by PostgreSQL (every postgres process plus the backends the postmaster
 * reaped) and by the Kafka broker (every java process). Two snapshots' difference is what a run cost.
 */
export async function cpuSnapshot(services: Record<string, { pid: number }>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, service] of Object.entries(services)) out[name] = (await cpuOfPid(service.pid)).self;
  const all = new Map<number, Awaited<ReturnType<typeof cpuOfPid>>>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (/^\d+$/.test(entry)) all.set(Number(entry), await cpuOfPid(Number(entry)));
  }
  let postgres = 0;
  let kafka = 0;
  for (const p of all.values()) {
    // The postmaster (a postgres process whose parent is not one) also counts the backends it reaped.
    if (p.comm === 'postgres') postgres += p.self + (all.get(p.ppid)?.comm === 'postgres' ? 0 : p.children);
    else if (p.comm === 'java') kafka += p.self;
  }
  return { ...out, postgresql: postgres, 'kafka (all java)': kafka };
}

export function cpuDifference(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k] ?? 0) - (before[k] ?? 0)) * 100) / 100]));
}
