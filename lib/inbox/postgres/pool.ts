import 'server-only';
import pg from 'pg';
import { InboxUnavailableError } from '../../errors';

/** Connections per node. Appends use one at a time; the rest serve reads. */
const POOL_SIZE = 10;
/** An unreachable database must fail a request fast (503), never hang it. */
export const CONNECT_TIMEOUT_MS = 2000;
/** Server-side cap on one statement, including the wait for the append lock. */
const STATEMENT_TIMEOUT_MS = 5000;
/**
 * Client-side cap on one query: catches a server (or network) that stopped answering
 * on an open connection. A little above the server's cap, so a slow statement is
 * cancelled cleanly by the server first.
 */
const QUERY_TIMEOUT_MS = 5500;
/** A node that dies inside a transaction must not hold the append lock for long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
const PG_INT8_OID = 20;

/** BIGINT as a JS number: seqs, counts and milliseconds all stay far below 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JS number`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID && format !== 'binary' ? parseInt8 : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

/** The pool of one node; `schema` (already checked) is where every table lives. */
export function createPool(databaseUrl: string, schema: string | undefined): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    // Names the schema too, so an operator (or a test) can tell the pools apart in pg_stat_activity.
    application_name: schema !== undefined ? `herald/${schema}` : 'herald',
    types,
    // Startup parameters, so they hold on every connection of the pool: a 202 means the
    // push is on disk even if the server's default says otherwise, and tables resolve in `schema`.
    options: ['-c synchronous_commit=on', ...(schema !== undefined ? [`-c search_path=${schema}`] : [])].join(' '),
  });
  // An idle connection that breaks (database restart, network cut) is dropped by
  // the pool and replaced on next use; without a listener it would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in a transaction on one pooled connection; a connection that failed is discarded, not reused. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out connection has no pool listener: an error between queries must not crash the process.
  const onError = () => undefined;
  client.on('error', onError);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (err instanceof pg.DatabaseError) {
      // The server refused a statement; the connection is fine once rolled back.
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
    } else {
      // Timeout or network failure: the connection cannot be trusted (nor waited on for a
      // ROLLBACK). Destroying it makes the server abort the transaction and free its locks.
      broken = true;
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the rows, not the database, are at fault. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** Every database failure reaches callers as InboxUnavailableError (503). */
export function unavailable(what: string, err: unknown): InboxUnavailableError {
  if (err instanceof InboxUnavailableError) return err;
  return new InboxUnavailableError(`inbox ${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** The pool as the inbox's parts use it: refused once closed, every failure InboxUnavailableError. */
export class PgDatabase {
  /** Set by close(): calls from now on are refused. */
  closed = false;

  constructor(readonly pool: pg.Pool) {}

  guard(): void {
    if (this.closed) throw new InboxUnavailableError('inbox is closed');
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.guard();
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  async transaction<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.guard();
    try {
      return await withTransaction(this.pool, fn);
    } catch (err) {
      throw unavailable(what, err);
    }
  }
}
