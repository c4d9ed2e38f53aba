/**
 * Session kinds: a zod state schema, typed actions with zod-checked
 * arguments, and TTLs. `defaultKind` has free-form state so the server is
 * useful without any code.
 *
 * @module
 */
import { z } from "zod";
import { type Duration, parseDuration } from "../src/duration.ts";
import { ValidationError } from "../src/errors.ts";
import { type AgentState, DEFAULT_TTL, type Session, type Ttl } from "../src/session.ts";
import type {
  Approval,
  ApprovalInput,
  ConflictInput,
  Coordination,
} from "../src/coordination/model.ts";

/**
 * zod's schema type under a local name. `deno doc --lint` flags any reference
 * to a type from an npm package as private (denoland/deno#27364).
 *
 * @internal
 */
type ZodType<T = unknown> = z.ZodType<T>;

/**
 * The type a zod schema parses to, under a local name (see {@linkcode ZodType}).
 *
 * @internal
 */
type Output<T extends ZodType> = z.output<T>;

/**
 * The type a zod schema accepts, under a local name (see {@linkcode ZodType}).
 *
 * @internal
 */
type Input<T extends ZodType> = z.input<T>;

/** What an action sees inside the actor's turn. */
export interface ActionContext<S> {
  /** A draft of the state: mutate it; it is committed after `run` returns. */
  readonly state: S;
  /** The session as it was before this command (without state). */
  readonly session: Readonly<Omit<Session, "state">>;
  /** The agent that sent the command, when known. */
  readonly agent?: string;
  /** The injected clock's time, epoch milliseconds. */
  readonly now: number;
  /** Adds an event to the same commit, after the action's own event. */
  emit(type: string, data?: unknown): void;
  /** Sets the session's free-form phase (`planning`, `executing`, …). */
  setPhase(phase: string): void;
  /**
   * Schedules a durable timer that runs `action` with `args` when due, in
   * the same commit as this command (SPEC §9.1). Without `action` it is a
   * reminder: `timer.fired` carries `opts.data`. Returns the timer's id.
   */
  schedule(
    when: { in: Duration } | { at: string | number },
    action?: string,
    args?: unknown,
    opts?: { id?: string; data?: unknown },
  ): string;
  /** Cancels a pending timer; false when there is none of that id. */
  cancel(timerId: string): boolean;
  /** Asks a person (SPEC §9.2); the kind's `onDecision` runs when they decide. Returns its id. */
  requestApproval(input: ApprovalInput): string;
  /** Records a conflict between findings (SPEC §9.4). Returns its id. */
  recordConflict(input: ConflictInput): string;
  /** The session's coordination records as they stand before this command. */
  readonly coordination: Readonly<Coordination>;
}

/** One action: zod-checked arguments and a synchronous `run`. */
export interface ActionDef<S, A extends ZodType = ZodType, R = unknown> {
  /** The zod schema the arguments are parsed with. */
  args: A;
  /** Runs inside the actor's turn; must not be async. Its return value must be JSON. */
  run(ctx: ActionContext<S>, args: Output<A>): R;
}

/** The definition handed to {@linkcode defineSession}. `A` maps action names to their args schemas. */
export interface SessionKindDef<
  S extends ZodType<Record<string, unknown>>,
  A extends Record<string, ZodType>,
> {
  /** The kind's name, used in `POST /v1/sessions {kind}`. */
  kind: string;
  /** The state schema; defaults in it apply at creation. */
  state: S;
  /** TTLs; defaults `{ active: "24h", paused: "7d" }`. */
  ttl?: { active?: Duration; paused?: Duration };
  /** The commands this kind understands. */
  actions?: { [N in keyof A]: ActionDef<Output<S>, A[N]> };
  /** Overrides the overall progress, which is otherwise the plan's done ÷ total, or the mean of the agents' progress. */
  progress?(state: Output<S>, agents: Record<string, AgentState>): number;
  /** Runs in the turn that records a decision or an expiry of one of this session's approvals. */
  onDecision?(ctx: ActionContext<Output<S>>, approval: Approval): void;
  /** Runs in the turn that records each new result; it may record conflicts in the same commit. */
  detectConflicts?(ctx: ActionContext<Output<S>>, result: ResultView): void;
  /** Top-level state fields whose text the session search finds (strings, or arrays of them). */
  search?: string[];
}

/** A result as `detectConflicts` sees it. */
export interface ResultView {
  /** The result's key. */
  key: string;
  /** The agent that produced it. */
  agent?: string;
  /** Its data; absent for results too large to keep inline (in the blob store). */
  data?: unknown;
  /** True for an intermediate result. */
  partial: boolean;
}

/** A registered session kind. `Acts` carries the action types for typed clients. */
export interface SessionKind<
  S = Record<string, unknown>,
  Acts extends Record<string, ActionDef<S>> = Record<string, ActionDef<S>>,
> {
  /** The kind's name. */
  readonly kind: string;
  /** The state schema: every committed state parses with it. */
  readonly state: ZodType<S>;
  /** TTLs in milliseconds. */
  readonly ttl: Ttl;
  /** The actions, by name. */
  readonly actions: Acts;
  /** Overrides the overall progress, which is otherwise the plan's done ÷ total, or the mean of the agents' progress. */
  readonly progress?: (state: S, agents: Record<string, AgentState>) => number;
  /** See {@linkcode SessionKindDef.onDecision}. */
  readonly onDecision?: (ctx: ActionContext<S>, approval: Approval) => void;
  /** See {@linkcode SessionKindDef.detectConflicts}. */
  readonly detectConflicts?: (ctx: ActionContext<S>, result: ResultView) => void;
  /** See {@linkcode SessionKindDef.search}. */
  readonly search: readonly string[];
  /** True for the generic kind: any JSON object is a valid state, so per-command validation is skipped. */
  readonly freeForm: boolean;
}

/** Argument types of a kind's actions, for typed clients. */
export type ActionArgs<K> = K extends SessionKind<infer _S, infer Acts>
  ? { [N in keyof Acts]: Input<Acts[N]["args"]> }
  : never;

const KIND_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Defines a session kind.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { defineSession } from "./kind.ts";
 * const chat = defineSession({
 *   kind: "chat",
 *   state: z.object({ turns: z.number().default(0) }),
 *   actions: {
 *     turn: { args: z.object({}), run(ctx) { ctx.state.turns++; return ctx.state.turns; } },
 *   },
 * });
 * ```
 */
export function defineSession<
  S extends ZodType<Record<string, unknown>>,
  A extends Record<string, ZodType> = Record<never, never>,
>(
  def: SessionKindDef<S, A>,
): SessionKind<Output<S>, { [N in keyof A]: ActionDef<Output<S>, A[N]> }> {
  if (!KIND_NAME.test(def.kind)) {
    throw new ValidationError(`Invalid kind name '${def.kind}'`);
  }
  for (const name of Object.keys(def.actions ?? {})) {
    if (!KIND_NAME.test(name)) throw new ValidationError(`Invalid action name '${name}'`);
  }
  return {
    kind: def.kind,
    state: def.state as unknown as z.ZodType<z.output<S>>,
    ttl: {
      active: def.ttl?.active ? parseDuration(def.ttl.active) : DEFAULT_TTL.active,
      paused: def.ttl?.paused ? parseDuration(def.ttl.paused) : DEFAULT_TTL.paused,
    },
    actions: (def.actions ?? {}) as { [N in keyof A]: ActionDef<z.output<S>, A[N]> },
    progress: def.progress,
    onDecision: def.onDecision,
    detectConflicts: def.detectConflicts,
    search: searchFields(def.search),
    freeForm: false,
  };
}

/** The generic kind: free-form JSON object state, no actions; change it with JSON Patch. */
export const defaultKind: SessionKind = {
  kind: "default",
  state: z.record(z.string(), z.unknown()),
  ttl: DEFAULT_TTL,
  actions: {},
  search: [],
  freeForm: true,
};

function searchFields(fields: string[] | undefined): string[] {
  for (const f of fields ?? []) {
    if (!KIND_NAME.test(f)) throw new ValidationError(`Invalid search field '${f}'`);
  }
  return fields ?? [];
}
