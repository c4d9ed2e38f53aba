/**
 * `deno task sessions <command>`: manage sessions from a terminal or a
 * script, on the local data directory (`--data DIR`, default `./data`) or
 * on a running server (`--url URL`, token from `DENIZEN_TOKEN`).
 *
 * Every command takes `--json` for output a script can parse. Errors go to
 * stderr; the exit code is 0 when all went well, 1 for a runtime or HTTP
 * error, 2 for a usage error and 4 when the session does not exist.
 *
 * @example
 * ```sh
 * deno task sessions list --status completed --json
 * deno task sessions export 01J0ABC -o 01J0ABC.tar.gz
 * deno task sessions --url http://127.0.0.1:8000 cleanup --older-than 30d --keep 10
 * deno task sessions approvals
 * deno task sessions approvals decide 01J0ABC plan approve --by alice
 * deno task sessions tasks 01J0ABC --status ready
 * ```
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import type { ApprovalStatus, TaskStatus } from "../src/coordination/model.ts";
import type { ApprovalPage, ListQuery } from "../src/history/history_store.ts";
import type { Session } from "../src/session.ts";
import {
  approvalStatusArg,
  daysArg,
  intArg,
  jsonArg,
  recordIdArg,
  sessionIdArg,
  statusArg,
  taskStatusArg,
} from "./_options.ts";
import { approvalTable, decisionError, decisionLine } from "./approval_view.ts";
import type { SessionsBackend } from "./backend.ts";
import { archiveAllTerminal, type BulkOutcome, cleanup } from "./bulk.ts";
import { asCliError, EXIT, usageError } from "./cli_error.ts";
import { httpBackend } from "./http_backend.ts";
import { openLocalBackend } from "./local_backend.ts";
import { sessionDetails, sessionLine, sessionTable } from "./session_view.ts";
import { taskTable } from "./task_view.ts";
import { exportTo, importFrom } from "./transfer.ts";

/** Options every command takes. */
interface Globals {
  data: string;
  url?: string;
  json?: boolean;
  progress?: boolean;
}

/** Options of `approvals`. */
interface ApprovalsOptions {
  status: ApprovalStatus;
  session?: string;
  limit: number;
  cursor?: string;
}

/** One run: whether errors print as JSON, and the exit code so far. */
interface Run {
  json: boolean;
  exitCode: number;
}

/** Where output goes: results on stdout, errors and hints on stderr. */
const io = {
  out: (text: string) => console.log(text),
  err: (text: string) => console.error(text),
};

/**
 * Runs the CLI on `args` and returns the exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await main(["list", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const run: Run = { json: false, exitCode: EXIT.ok };
  try {
    await _program(run).parseAsync(args, { from: "user" });
    return run.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const e = asCliError(error);
    io.err(
      run.json
        ? JSON.stringify({ error: { code: e.code, message: e.message } })
        : `error: ${e.message}`,
    );
    return e.exitCode;
  }
}

function _program(run: Run): Command {
  const program = new Command()
    .name("sessions")
    .description("Manage Denizen sessions on a data directory or a running server")
    .option("--data <dir>", "local data directory", "./data")
    .option("--url <url>", "a running server instead (token from DENIZEN_TOKEN)")
    .option("--json", "print JSON for scripts")
    .option("--progress", "draw a progress bar on stderr even when it is not a terminal")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .hook("preAction", (_, action) => {
      run.json = action.optsWithGlobals<Globals>().json === true;
    });

  program.command("list").description("list sessions, most recently updated first")
    .option("--status <status>", "only this status", statusArg)
    .option("--kind <kind>", "only this kind")
    .option("--tag <tag>", "only sessions with this tag")
    .option("--agent <agent>", "only sessions with this agent")
    .option("--q <text>", "full text over name, tags, meta and messages")
    .option("--limit <n>", "at most n sessions (1-500)", intArg("--limit", 1, 500), 50)
    .option("--cursor <cursor>", "the next page, from a previous --json answer")
    .action((opts: ListQuery, cmd: Command) =>
      _with(cmd, async (b, g) => {
        const page = await b.list(opts);
        if (g.json) {
          return io.out(_json({ items: page.items, nextCursor: page.nextCursor ?? null }));
        }
        io.out(page.items.length > 0 ? sessionTable(page.items) : "No sessions");
        if (page.nextCursor) io.err(`More: --cursor ${page.nextCursor}`);
      })
    );

  program.command("show <id>").description("show one session with its state")
    .action((id: string, _opts: unknown, cmd: Command) =>
      _with(cmd, async (b, g) => {
        const s = await b.get(sessionIdArg(id));
        io.out(g.json ? _json(s) : sessionDetails(s));
      })
    );

  for (const verb of ["pause", "resume"] as const) {
    program.command(`${verb} <id>`).description(`${verb} a session`)
      .action((id: string, _opts: unknown, cmd: Command) =>
        _with(cmd, async (b, g) => _session(g, await b[verb](sessionIdArg(id))))
      );
  }

  program.command("complete <id>").description("complete a session, with an optional report")
    .option("--report <json>", "the final report, as JSON", jsonArg("--report"))
    .action((id: string, opts: { report?: unknown }, cmd: Command) =>
      _with(cmd, async (b, g) => _session(g, await b.complete(sessionIdArg(id), opts.report)))
    );

  program.command("export <id>").description("write a session's tar.gz archive")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action((id: string, opts: { output?: string }, cmd: Command) =>
      _with(cmd, async (b, g) => {
        sessionIdArg(id);
        if (g.json && opts.output === undefined) {
          throw usageError("--json needs -o FILE: without it stdout carries the archive");
        }
        const bytes = await exportTo(b, id, opts.output);
        if (opts.output === undefined) return;
        if (g.json) return io.out(_json({ id, file: opts.output, bytes }));
        io.out(`Exported session '${id}' to ${opts.output} (${bytes} bytes)`);
      })
    );

  program.command("import <file>").description("import a tar.gz archive ('-' reads stdin)")
    .action((file: string, _opts: unknown, cmd: Command) =>
      _with(cmd, async (b, g) => {
        const s = await importFrom(b, file);
        io.out(
          g.json ? _json(s) : `Imported session '${s.id}' (${s.status}, version ${s.version})`,
        );
      }, { create: true })
    );

  program.command("archive [id]").description("archive a completed, failed or expired session")
    .option("--all-terminal", "archive every completed, failed and expired session")
    .action((id: string | undefined, opts: { allTerminal?: boolean }, cmd: Command) =>
      _with(cmd, async (b, g) => {
        if ((id === undefined) === !opts.allTerminal) {
          throw usageError("archive takes a session id or --all-terminal, not both or neither");
        }
        if (id !== undefined) {
          const s = await b.archive(sessionIdArg(id));
          return io.out(g.json ? _json(s) : `Archived session '${s.id}' to ${s.archive}`);
        }
        const outcome = await archiveAllTerminal(b, { progress: g.progress });
        _bulk(run, outcome, "archived", (a) => `Archived '${a.id}' to ${a.archive}`);
      })
    );

  program.command("cleanup").description("delete old terminal sessions (retention rules)")
    .option("--older-than <duration>", "terminal sessions not updated for this long", daysArg, 30)
    .option("--keep <n>", "always keep the n newest completed", intArg("--keep", 0, 1_000_000), 10)
    .option("--failed", "also delete every failed session, whatever its age")
    .option("--dry-run", "only list what would be deleted")
    .action((
      opts: { olderThan: number; keep: number; failed?: boolean; dryRun?: boolean },
      cmd: Command,
    ) =>
      _with(cmd, async (b, g) => {
        const rules = {
          olderThanDays: opts.olderThan,
          keepCompleted: opts.keep,
          failed: !!opts.failed,
        };
        const outcome = await cleanup(b, rules, { dryRun: opts.dryRun, progress: g.progress });
        const verb = opts.dryRun ? "would delete" : "deleted";
        _bulk(run, outcome, opts.dryRun ? "candidates" : "deleted", (id) => `${verb} ${id}`);
      })
    );

  const approvals = program.command("approvals")
    .description("list approvals across sessions, oldest deadline first (pending unless --status)")
    .option("--status <status>", "pending, decided or expired", approvalStatusArg, "pending")
    .option("--session <id>", "every approval of this session instead (one page)", sessionIdArg)
    .option("--limit <n>", "at most n approvals (1-500)", intArg("--limit", 1, 500), 50)
    .option("--cursor <cursor>", "the next page, from a previous answer")
    .action((opts: ApprovalsOptions, cmd: Command) => {
      const paged = ["limit", "cursor"].filter((o) => cmd.getOptionValueSource(o) === "cli");
      if (opts.session !== undefined && paged.length > 0) {
        throw usageError(`--session lists every approval of the session: drop --${paged[0]}`);
      }
      const { session } = opts;
      return _with(cmd, async (b, g) => {
        const page: ApprovalPage = session === undefined
          ? await b.inbox({ status: opts.status, limit: opts.limit, cursor: opts.cursor })
          : { items: (await b.approvals(session, opts.status)).map((a) => ({ ...a, session })) };
        if (g.json) {
          return io.out(_json({ items: page.items, nextCursor: page.nextCursor ?? null }));
        }
        io.out(
          page.items.length > 0
            ? approvalTable(page.items, Date.now())
            : `No ${opts.status} approvals`,
        );
        if (page.nextCursor) io.err(`More: --cursor ${page.nextCursor}`);
      });
    });

  approvals.command("decide <session> <approval> <option>")
    .description("decide a pending approval with one of the options it offers")
    .option("--by <name>", "who decides")
    .option("--comment <text>", "a comment kept with the decision")
    .action((
      session: string,
      approval: string,
      option: string,
      opts: { by?: string; comment?: string },
      cmd: Command,
    ) => {
      sessionIdArg(session);
      recordIdArg("approval")(approval);
      return _with(cmd, async (b, g) => {
        const a = await b.decide(session, approval, { option, ...opts }).catch((error) => {
          throw asCliError(decisionError(error), { usage: true });
        });
        io.out(g.json ? _json(a) : decisionLine(session, a));
      });
    });

  program.command("tasks <session>")
    .description("list a session's plan: status, holder and lease, attempts, deps")
    .option("--status <status>", "only tasks of this status", taskStatusArg)
    .action((session: string, opts: { status?: TaskStatus }, cmd: Command) =>
      _with(cmd, async (b, g) => {
        const tasks = await b.tasks(sessionIdArg(session), opts.status);
        if (g.json) return io.out(_json({ tasks }));
        const none = opts.status === undefined ? "No tasks" : `No ${opts.status} tasks`;
        io.out(tasks.length > 0 ? taskTable(tasks, Date.now()) : none);
      })
    );

  return program;
}

/** Opens the backend the global options name, runs `fn`, and closes it. */
async function _with(
  cmd: Command,
  fn: (backend: SessionsBackend, g: Globals) => Promise<void>,
  opts: { create?: boolean } = {},
): Promise<void> {
  const g = cmd.optsWithGlobals<Globals>();
  const backend = g.url !== undefined
    ? httpBackend(g.url, Deno.env.get("DENIZEN_TOKEN"))
    : await openLocalBackend(g.data, opts);
  try {
    await fn(backend, g);
  } finally {
    await backend.close();
  }
}

function _session(g: Globals, s: Session): void {
  io.out(g.json ? _json(s) : sessionLine(s));
}

/** Prints a bulk outcome; any failure makes the exit code 1. */
function _bulk<T>(run: Run, outcome: BulkOutcome<T>, key: string, line: (item: T) => string) {
  if (run.json) {
    io.out(_json({ [key]: outcome.done, failed: outcome.failed }));
  } else {
    for (const item of outcome.done) io.out(line(item));
    io.out(`${outcome.done.length} ${key}, ${outcome.failed.length} failed`);
  }
  for (const f of outcome.failed) io.err(`error: ${f.id}: ${f.error}`);
  if (outcome.failed.length > 0) run.exitCode = EXIT.error;
}

function _json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
