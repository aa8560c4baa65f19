import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';

/** The local cluster pg_ctlcluster can restart, when this process may (root, server on this host). */
function localCluster(databaseUrl: string): { version: string; name: string } | undefined {
  if (process.env.FAULT_PG_RESTART === '0') return undefined;
  const host = new URL(databaseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', ''].includes(host)) return undefined;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/etc/postgresql')) return undefined;
  const version = readdirSync('/etc/postgresql').sort().pop();
  return version ? { version, name: 'main' } : undefined;
}

function ready(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-q']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Restarts the PostgreSQL server (fast shutdown: every connection is cut, in-flight transactions
 * roll back) and waits until it answers again. Where the server is not this machine's to restart,
 * drops every connection to the database instead, which is what clients see of a restart: `db`
 * is then a superuser's handle (the harness's `admin`), since ending other roles' connections
 * takes one.
 */
export async function restartPostgres(databaseUrl: string, db: Database): Promise<'restarted' | 'connections dropped'> {
  const cluster = localCluster(databaseUrl);
  if (!cluster) {
    await db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    return 'connections dropped';
  }
  const ctl = (action: string, ...extra: string[]) =>
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, action, ...extra], { stdio: 'ignore' });
  try {
    ctl('restart', '-m', 'fast');
  } finally {
    // Whatever happened, leave the server running.
    for (let i = 0; i < 60 && !ready(); i++) {
      if (i === 10) { try { ctl('start'); } catch { /* already starting */ } }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (!ready()) throw new Error('PostgreSQL did not come back after the restart');
  return 'restarted';
}
