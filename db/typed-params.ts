import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/**
 * A row's values as parameters cast to their columns' types (`$1::uuid, $2::jsonb, …`), for an
 * `INSERT … SELECT` whose values come from a sub-select or a VALUES list: there PostgreSQL does
 * not take the parameters' types from the target columns.
 */
export function typedParams<K extends string>(columns: Record<K, PgColumn>, row: Record<K, unknown>, fields: readonly K[]): SQL {
  return sql.join(fields.map((f) => sql`${sql.param(row[f], columns[f])}::${sql.raw(columns[f].getSQLType())}`), sql`, `);
}

/** The columns' names, quoted, in the order of `fields`. */
export function columnNames<K extends string>(columns: Record<K, PgColumn>, fields: readonly K[]): SQL {
  return sql.join(fields.map((f) => sql.identifier(columns[f].name)), sql`, `);
}
