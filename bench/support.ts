import { cpus, totalmem } from 'node:os';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** One line of the results table: Nurture against its same-run baseline. */
export interface Row { scenario: string; nurture: number; baseline: number; unit: string; ratio: number; target: string; met: boolean; at?: string }

export const log = (...args: unknown[]) => console.log('[bench]', ...args);

/** Runs `fn(0..count-1)` with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) { const i = next++; out[i] = await fn(i); }
  }));
  return out;
}

/** Seconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const round = (x: number) => Math.round(x * 100) / 100;

/** A process's resident set size in MB, read from /proc (Linux). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024;
}

/** Collects rows, printing each as it is measured. */
export class Results {
  readonly rows: Row[] = [];

  ratio(scenario: string, nurture: number, baseline: number, unit: string, higherIsBetter: boolean, target: number): void {
    const ratio = nurture / baseline;
    const met = higherIsBetter ? ratio >= target : ratio <= target;
    this.push({ scenario, nurture: round(nurture), baseline: round(baseline), unit, ratio: round(ratio), target: `${higherIsBetter ? '≥' : '≤'} ${target}`, met });
  }

  /** An absolute ceiling (MB, ms), with the baseline shown beside it. */
  ceiling(scenario: string, nurture: number, baseline: number, unit: string, limit: number): void {
    this.push({ scenario, nurture: round(nurture), baseline: round(baseline), unit, ratio: round(nurture / baseline), target: `< ${limit} ${unit}`, met: nurture < limit });
  }

  private push(row: Row): void {
    this.rows.push(row);
    log(row.scenario, { nurture: row.nurture, baseline: row.baseline, ratio: row.ratio, met: row.met });
  }

  /**
   * Writes bench/results.json and bench/RESULTS.md and prints the table. A partial run
   * (BENCH_ONLY) keeps the other scenarios' rows from the last results.json, dated.
   */
  write(sizes: Record<string, number>, notes: string[], partial = false): void {
    const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const at = new Date().toISOString();
    const file = path.join(__dirname, 'results.json');
    for (const row of this.rows) row.at = at;
    if (existsSync(file)) {
      // A full run keeps the cluster rows (measured by `--cluster` only); a partial one keeps all others.
      const previous = (JSON.parse(readFileSync(file, 'utf8')) as { at: string; rows: Row[] });
      const kept = previous.rows.filter((r) => (partial || r.scenario.startsWith('cluster:')) && !this.rows.some((n) => n.scenario === r.scenario))
        .map((r) => ({ ...r, at: r.at ?? previous.at }));
      this.rows.unshift(...kept);
    }
    writeFileSync(file, JSON.stringify({ at, machine, sizes, rows: this.rows }, null, 2));
    const md = [
      '# Benchmark results', '',
      `Run ${at} on ${machine}; sizes ${Object.entries(sizes).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
      'Nurture and its baseline run on the same Temporal server and PostgreSQL, in the same run: the dev server (`npm run bench`), or a cluster for the rows marked `cluster:` (`npm run bench -- --cluster`).', '',
      '| scenario | Nurture | baseline | ratio | target | met | measured |', '|---|---|---|---|---|---|---|',
      ...this.rows.map((r) => `| ${r.scenario} | ${r.nurture} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? 'yes' : 'no'} | ${r.at?.slice(0, 16).replace('T', ' ')} |`), '',
      ...notes.map((n) => `- ${n}`), '',
    ].join('\n');
    writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
    console.log(`\n${md}`);
  }
}

/** CPU seconds used so far by this process, the Temporal server and PostgreSQL (Linux /proc). */
export function cpuByComponent(): Record<'node' | 'temporal' | 'postgres', number> {
  const out = { node: 0, temporal: 0, postgres: 0 };
  const tick = 100; // USER_HZ
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, and cutime + cstime: the CPU of children that ended (PostgreSQL backends
      // whose connections closed) is counted in their parent once it reaps them.
      const seconds = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / tick;
      if (Number(pid) === process.pid) out.node += seconds;
      else if (comm === 'temporal') out.temporal += seconds;
      else if (comm === 'postgres') out.postgres += seconds;
    } catch { /* the process ended */ }
  }
  return out;
}

/** Runs `fn` and returns its wall time and the CPU seconds each component spent meanwhile. */
export async function profiled(fn: () => Promise<unknown>): Promise<{ seconds: number; cpu: Record<string, number> }> {
  const before = cpuByComponent();
  const seconds = await timed(fn);
  const after = cpuByComponent();
  const cpu = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, round(v - before[k as keyof typeof before])]));
  return { seconds, cpu };
}

/** ABBA cycles per throughput scenario (BENCH_CYCLES, default 2): more cycles, less drift. */
const CYCLES = Number(process.env.BENCH_CYCLES ?? 2);

type Round = { seconds: number; cpu: Record<string, number> };

/**
 * Baseline, Nurture, Nurture, baseline, `BENCH_CYCLES` times, after an unmeasured warm-up of
 * each (JIT, caches, connections): drift in the shared server (its SQLite grows, its background
 * work comes and goes) weighs on both sides alike. Logs each round's wall and CPU seconds per
 * component; returns each side's total seconds.
 */
export async function abba(name: string, ours: () => Promise<Round>, raw: () => Promise<Round>, warmUp: { ours: () => Promise<unknown>; raw: () => Promise<unknown> }) {
  await warmUp.raw();
  await warmUp.ours();
  const rounds: Array<Round & { side: 'A' | 'B' }> = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    rounds.push({ side: 'A', ...await raw() }, { side: 'B', ...await ours() }, { side: 'B', ...await ours() }, { side: 'A', ...await raw() });
  }
  log(`${name}: rounds (A baseline, B Nurture): wall seconds, then CPU seconds per component`);
  for (const r of rounds) log(`  ${r.side} ${round(r.seconds)} s | ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const total = (side: 'A' | 'B') => rounds.filter((r) => r.side === side).reduce((sum, r) => sum + r.seconds, 0);
  return { ours: total('B'), raw: total('A'), roundsPerSide: 2 * CYCLES };
}

/**
 * The load generator's client: POSTs JSON over node:http with kept-alive connections, as a
 * backend service would. It shares the machine's two cores with what it measures, so it is the
 * leanest client at hand (fetch costs about 0.7 ms more CPU per request here).
 */
export function jsonPoster(baseUrl: string, apiKey: string, sockets = 16) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return (path: string, body: unknown) => new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(`${baseUrl}${path}`, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${apiKey}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
