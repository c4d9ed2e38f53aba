/**
 * Counters and histograms for `GET /metrics`, rendered as Prometheus text.
 *
 * @module
 */
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 100];
const LATENESS_BUCKETS = [10, 50, 100, 250, 500, 1000, 5000, 60_000];

/** Observes commits, for metrics. */
export interface CommitObserver {
  /** Called after each KV commit of `units` commit units and `mutations` mutations that took `ms`. */
  committed(units: number, mutations: number, ms: number): void;
}

/** A Prometheus histogram with fixed upper bounds. */
export class Histogram {
  /** Upper bounds of the buckets, ascending. */
  readonly buckets: number[];
  /** Observations per bucket, cumulative: each counts every value at or under its bound. */
  readonly counts: number[];
  /** Sum of every observed value. */
  sum = 0;
  /** Number of observations. */
  count = 0;
  /** A histogram with the given upper bounds. */
  constructor(buckets: number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }
  /** Records one value. */
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }
  /** Prometheus text exposition under `name`. */
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`);
    lines.push(`${name}_count ${this.count}`);
    return lines.join("\n");
  }
}

/** The runtime's metrics. */
export class Metrics implements CommitObserver {
  /** KV atomic commits. */
  commits = 0;
  /** KV mutations committed. */
  commitMutations = 0;
  /** Failed outbox drain passes. */
  drainErrors = 0;
  /** Open WebSocket connections. */
  wsConnections = 0;
  /** WebSocket frames received. */
  wsMessages = 0;
  /** What the scheduler ran, by record type: timers fired, approval deadlines, lapsed leases. */
  readonly dueFired: Record<"timers" | "approvals" | "tasks", number> = {
    timers: 0,
    approvals: 0,
    tasks: 0,
  };
  /** Keys on the scheduler's index by record type, and pending approvals, as last counted. */
  scheduled: { timers: number; approvals: number; tasks: number; pendingApprovals: number } = {
    timers: 0,
    approvals: 0,
    tasks: 0,
    pendingApprovals: 0,
  };
  /** How late the scheduler ran what was due, in ms. */
  readonly dueLateness: Histogram = new Histogram(LATENESS_BUCKETS);
  /** KV commit latency in ms. */
  readonly commitLatency: Histogram = new Histogram(LATENCY_BUCKETS);
  /** Sessions per group commit. */
  readonly batchSize: Histogram = new Histogram(BATCH_BUCKETS);
  /** Live values, read at render time. */
  gauges: () => Record<string, number> = () => ({});

  /** Counts one KV commit of `units` sessions and `mutations` mutations that took `ms`. */
  committed(units: number, mutations: number, ms: number): void {
    this.commits++;
    this.commitMutations += mutations;
    this.commitLatency.observe(ms);
    this.batchSize.observe(units);
  }

  /** Prometheus text exposition. */
  render(): string {
    const g = this.gauges();
    const out = [
      counter("denizen_commits_total", "KV atomic commits", this.commits),
      counter("denizen_commit_mutations_total", "KV mutations committed", this.commitMutations),
      counter("denizen_drain_errors_total", "Failed outbox drain passes", this.drainErrors),
      counter(
        "denizen_ws_messages_total",
        "WebSocket messages received (a batch counts once)",
        this.wsMessages,
      ),
      gauge("denizen_ws_connections", "Open WebSocket connections", this.wsConnections),
      counter("denizen_timers_fired_total", "Timers the scheduler fired", this.dueFired.timers),
      counter(
        "denizen_approval_deadlines_total",
        "Approvals expired or decided at their deadline by the scheduler",
        this.dueFired.approvals,
      ),
      counter("denizen_lease_expiries_total", "Task leases that lapsed", this.dueFired.tasks),
      gauge(
        "denizen_timers_pending",
        "Timers waiting on the scheduler (active sessions)",
        this.scheduled.timers,
      ),
      gauge(
        "denizen_approval_deadlines_pending",
        "Approval deadlines waiting on the scheduler (active sessions)",
        this.scheduled.approvals,
      ),
      gauge(
        "denizen_leases_held",
        "Claimed tasks whose lease the scheduler watches",
        this.scheduled.tasks,
      ),
      gauge(
        "denizen_approvals_pending",
        "Approvals waiting for a decision, across sessions (the inbox)",
        this.scheduled.pendingApprovals,
      ),
      this.dueLateness.render(
        "denizen_due_lateness_ms",
        "How late timers, deadlines and leases ran, in ms",
      ),
      this.commitLatency.render("denizen_commit_latency_ms", "KV commit latency in ms"),
      this.batchSize.render("denizen_group_commit_sessions", "Sessions per group commit"),
    ];
    for (const [k, v] of Object.entries(g)) out.push(gauge(`denizen_${snake(k)}`, k, v));
    return out.join("\n") + "\n";
  }
}

function counter(name: string, help: string, v: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${v}`;
}

function gauge(name: string, help: string, v: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${v}`;
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}
