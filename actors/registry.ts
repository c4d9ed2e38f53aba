/**
 * The registry: at most one live actor per session id in this process.
 * Actors are activated on first use and passivated when idle for
 * `idleMs`; past `maxActors`, the least recently used idle actor is evicted.
 * An actor idle for `trimMs` first lets go of its remembered command ids,
 * which KV still holds: thousands of quiet actors otherwise keep a heap the
 * GC must trace on every major collection.
 *
 * @module
 */
import { type ActorEnv, SessionActor } from "./session_actor.ts";

/** Registry options, with the defaults of SPEC §2. */
export interface RegistryOptions {
  /** Idle time before passivation. Default 5 minutes. */
  idleMs?: number;
  /** Most live actors. Default 10,000. */
  maxActors?: number;
  /** Idle time after which an actor drops its cached command ids (reloaded from KV when needed). Default 30 s. */
  trimMs?: number;
}

/** Activation, passivation and the LRU cap. */
export class ActorRegistry {
  readonly #env: ActorEnv;
  readonly #idleMs: number;
  readonly #max: number;
  readonly #trimMs: number;
  /**
   * Live actors by id. A use is stamped on the actor (`recency`), not made by
   * moving its entry to the end: a V8 Map's delete and set of one key cost
   * time in proportion to its size (about 6 µs a command at 3,000 actors,
   * 25 µs at 10,000), on every command.
   */
  readonly #actors = new Map<string, SessionActor>();
  /** Uses so far; an actor's `recency` is the count at its last use. */
  #uses = 0;

  constructor(env: ActorEnv, opts: RegistryOptions = {}) {
    this.#env = env;
    this.#idleMs = opts.idleMs ?? 5 * 60_000;
    this.#max = opts.maxActors ?? 10_000;
    this.#trimMs = opts.trimMs ?? 30_000;
  }

  /** Live actors now. */
  get size(): number {
    return this.#actors.size;
  }

  /** The actor for `id`, activating it if needed. */
  get(id: string): SessionActor {
    let actor = this.#actors.get(id);
    if (actor && !actor.gone) {
      actor.recency = ++this.#uses;
      return actor;
    }
    actor = new SessionActor(id, this.#env);
    actor.recency = ++this.#uses;
    this.#actors.set(id, actor);
    if (this.#actors.size > this.#max) this.#evict(this.#actors.size - this.#max);
    return actor;
  }

  /** The live actor for `id`, without activating one. */
  peek(id: string): SessionActor | undefined {
    return this.#actors.get(id);
  }

  /** Drops `id` from memory (after delete or retirement). */
  drop(id: string): void {
    this.#actors.delete(id);
  }

  /** Passivates actors idle for longer than the idle timeout, and trims those idle for `trimMs`. Returns how many were passivated. */
  passivateIdle(): number {
    const now = this.#env.clock.now();
    let n = 0;
    for (const [id, actor] of this.#actors) {
      if (actor.idle && actor.lastUsed <= now - this.#idleMs) {
        this.#actors.delete(id);
        n++;
      } else if (actor.lastUsed <= now - this.#trimMs) {
        actor.trim();
      }
    }
    return n;
  }

  /** How many live actors hold their command ids in memory. */
  holdingCommandIds(): number {
    let n = 0;
    for (const actor of this.#actors.values()) if (actor.holdsCommandIds) n++;
    return n;
  }

  /** Every live actor. */
  all(): IterableIterator<SessionActor> {
    return this.#actors.values();
  }

  /** Passivates the `count` least recently used idle actors (fewer if fewer are idle). */
  #evict(count: number): void {
    for (; count > 0; count--) {
      let oldest: SessionActor | undefined;
      for (const actor of this.#actors.values()) {
        if (actor.idle && (oldest === undefined || actor.recency < oldest.recency)) oldest = actor;
      }
      if (oldest === undefined) return;
      this.#actors.delete(oldest.id);
    }
  }
}
