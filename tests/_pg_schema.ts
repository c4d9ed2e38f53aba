/**
 * A fresh PostgreSQL schema per test, so runs never collide: a URL whose
 * connections use it (through `search_path`), and a drop for the end.
 *
 * @module
 */
import pg from "pg";

/** Creates a schema and returns a URL scoped to it, and the function that drops it. */
export async function freshSchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `denizen_t_${crypto.randomUUID().replaceAll("-", "")}`;
  await admin(url, `CREATE SCHEMA ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set("options", `-c search_path=${schema}`);
  return { url: scoped.href, drop: () => admin(url, `DROP SCHEMA ${schema} CASCADE`) };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
