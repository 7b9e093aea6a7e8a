/**
 * Tables a Durable Object creates on its first write rather than when it starts, so that an object
 * that only ever reads (an address nobody created, a link never configured, a user with no calls)
 * gets no storage at all. Each store owns one: it knows whether its tables exist, creates them when
 * something is first written, and counts the rows written (tests assert what a refresh costs).
 */
export type SqlValue = SqlStorageValue;

export class LazyTables {
  readonly #sql: SqlStorage;
  readonly #schema: readonly string[];
  readonly #probeTable: string;
  #ready: boolean | undefined;
  #rowsWritten = 0;

  /** `probeTable` is one of the tables `schema` creates; its presence says the schema exists. */
  constructor(sql: SqlStorage, schema: string | readonly string[], probeTable: string) {
    this.#sql = sql;
    this.#schema = typeof schema === 'string' ? [schema] : schema;
    this.#probeTable = probeTable;
  }

  /** Rows written through this instance so far. */
  get rowsWritten(): number {
    return this.#rowsWritten;
  }

  /** Whether the tables exist. Asked once: only this store creates them, through `write`. */
  exist(): boolean {
    this.#ready ??= this.#sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", this.#probeTable).toArray().length > 0;
    return this.#ready;
  }

  /** Runs a writing statement, creating the tables first when they do not exist yet. */
  write<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlValue[]): SqlStorageCursor<T> {
    if (!this.exist()) {
      for (const statement of this.#schema) this.#sql.exec(statement);
      this.#ready = true;
    }
    const cursor = this.#sql.exec<T>(query, ...bindings);
    this.#rowsWritten += cursor.rowsWritten;
    return cursor;
  }
}
