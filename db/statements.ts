import { is, Param, Placeholder, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgColumn } from 'drizzle-orm/pg-core';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import type { Database } from './client';

/**
 * A statement of the hot paths (an enrolment, an audit record), compiled to SQL text once rather
 * than built by Drizzle on every call (about half a millisecond of CPU for a large statement).
 * Over node-postgres it runs as a named prepared statement, so PostgreSQL parses and plans it
 * once per connection. Values are named; the text never changes with them, so lists go in as
 * arrays (`= any(…)`, `unnest(…)`). The statements themselves, with typed functions that run
 * them, are in db/queries/; this file is the mechanism.
 */
export interface CompiledStatement<V extends object> {
  readonly name: string;
  /** Builds the statement with `param(name)` (or `param(name, column)` to encode as that column). */
  readonly build: (param: ParamOf<V>) => SQL;
  compiled?: { text: string; fill: (values: V) => unknown[] };
}

export type ParamOf<V> = (name: keyof V & string, column?: PgColumn) => SQL;

const dialect = new PgDialect();

export function compiledStatement<V extends object>(name: string, build: (param: ParamOf<V>) => SQL): CompiledStatement<V> {
  return { name, build };
}

function compile<V extends object>(statement: CompiledStatement<V>): NonNullable<CompiledStatement<V>['compiled']> {
  const query = dialect.sqlToQuery(statement.build((name, column) => (column
    ? sql`${sql.param(sql.placeholder(name), column)}`
    : sql`${sql.placeholder(name)}`)));
  const getters = query.params.map((p): ((values: V) => unknown) => {
    if (is(p, Placeholder)) return (values) => (values as Record<string, unknown>)[p.name];
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { encoder, value: { name: key } } = p as Param<unknown> & { value: Placeholder };
      return (values) => {
        const v = (values as Record<string, unknown>)[key];
        return v === null || v === undefined || !encoder ? v ?? null : encoder.mapToDriverValue(v);
      };
    }
    return () => p;
  });
  return { text: query.sql, fill: (values) => getters.map((get) => get(values)) };
}

/** Runs a compiled statement; returns its rows as the driver gives them (column names as written). */
export async function runStatement<R, V extends object>(db: Database, statement: CompiledStatement<V>, values: V): Promise<R[]> {
  statement.compiled ??= compile(statement);
  const { text, fill } = statement.compiled;
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client instanceof Pool) return (await client.query({ name: statement.name, text, values: fill(values) })).rows as R[];
  if (client instanceof PGlite) return (await client.query<R>(text, fill(values))).rows;
  throw new Error(`Statement ${statement.name} runs on the database handle itself, not inside a transaction`);
}

/**
 * `unnest($1::uuid[], $2::text[], …) as <alias>(<columns>)`: rows given as one array per column
 * (see `columnArrays`), so the statement's text is the same for one row or five hundred. JSON
 * columns travel as text and are cast back in `selectList`.
 */
export function unnestRows<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[], param: ParamOf<Record<K, unknown>>, alias: string): SQL {
  const arrays = fields.map((f) => sql`${param(f)}::${sql.raw(arrayTypeOf(columns[f]))}`);
  return sql`unnest(${sql.join(arrays, sql`, `)}) as ${sql.identifier(alias)} (${sql.join(fields.map((f) => sql.identifier(columns[f].name)), sql`, `)})`;
}

/** The select list over `unnestRows`: each column under its own name, JSON cast back from text. */
export function selectList<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[], alias: string): SQL {
  return sql.join(fields.map((f) => {
    const ref = sql`${sql.identifier(alias)}.${sql.identifier(columns[f].name)}`;
    return isJson(columns[f]) ? sql`${ref}::${sql.raw(columns[f].getSQLType())}` : ref;
  }), sql`, `);
}

/** Rows as one array per field, for `unnestRows`: dates as ISO text, JSON as text. */
export function columnArrays<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[], rows: ReadonlyArray<Record<K, unknown>>): Record<K, unknown[]> {
  const out = {} as Record<K, unknown[]>;
  for (const f of fields) {
    const json = isJson(columns[f]);
    out[f] = rows.map((r) => {
      const v = r[f];
      if (v === null || v === undefined) return null;
      if (v instanceof Date) return v.toISOString();
      return json ? JSON.stringify(v) : v;
    });
  }
  return out;
}

const isJson = (column: PgColumn) => column.getSQLType() === 'jsonb' || column.getSQLType() === 'json';
const arrayTypeOf = (column: PgColumn) => `${isJson(column) ? 'text' : column.getSQLType()}[]`;

/**
 * The named values as parameters cast to their columns' types (`$1::uuid, $2::jsonb, …`), for an
 * `INSERT … SELECT`: there PostgreSQL does not take the parameters' types from the target columns.
 */
export function typedParams<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[], param: ParamOf<Record<K, unknown>>): SQL {
  return sql.join(fields.map((f) => sql`${param(f, columns[f])}::${sql.raw(columns[f].getSQLType())}`), sql`, `);
}

/** The columns' names, quoted, in the order of `fields`. */
export function columnNames<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[]): SQL {
  return sql.join(fields.map((f) => sql.identifier(columns[f].name)), sql`, `);
}

/** `"journey_id" as "journeyId", …`: rows come back keyed as the table's fields. */
export function fieldsAs<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[] = Object.keys(columns) as K[]): SQL {
  return sql.join(fields.map((f) => sql`${sql.identifier(columns[f].name)} as ${sql.identifier(f)}`), sql`, `);
}

/**
 * A Drizzle query built and prepared once per database handle, for the many short reads of the
 * hot paths: `build` puts `sql.placeholder(name)` where values go; over node-postgres it runs as
 * a named prepared statement. Rows come back mapped as Drizzle maps them.
 */
export function preparedQuery<Q>(name: string, build: (db: Database) => { prepare(name: string): Q }): (db: Database) => Q {
  const byDatabase = new WeakMap<Database, Q>();
  return (db) => {
    let query = byDatabase.get(db);
    if (!query) byDatabase.set(db, query = build(db).prepare(name));
    return query;
  };
}
