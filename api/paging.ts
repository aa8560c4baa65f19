import { z } from 'zod';

/**
 * Every list route answers a page at a time: `limit` (default 50, at most 500) and `after` (the
 * previous page's `nextCursor`: the last row's key, read back from that row, so rows changed
 * meanwhile neither repeat nor get skipped), and `nextCursor` is null on the last page. Services
 * read `limit + 1` rows past the cursor, so a page knows whether another follows without a count.
 */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export const pageLimit = (max = MAX_PAGE, fallback = DEFAULT_PAGE) =>
  z.coerce.number().int().min(1).max(max).default(fallback).describe(`at most ${max} per page`);

export const NextCursor = z.string().nullable().describe('pass as `after` for the next page; null on the last page');

/** The first `limit` rows, and the cursor of the last one when more rows were read. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (row: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? cursorOf(items[items.length - 1]!) : null };
}
