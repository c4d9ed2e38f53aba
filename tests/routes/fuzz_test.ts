import assert from "node:assert/strict";
import fc from "fast-check";
import type { Runtime } from "../../mod.ts";
import { bearer, call, withRuntime } from "./_fixtures.ts";

/** Characters that stress parsers: ASCII, controls, lone surrogates, astral code points. */
const char = fc.oneof(
  fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom("%", "%2F", "%00", "%E0%A4%A", "..", "/", "?", "#", "~1", "__proto__"),
);
const weird = fc.string({ unit: char, maxLength: 24 });
/** Header values: visible ASCII and spaces (anything else cannot form a request). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const id = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("s1", "c1", "done") },
  fc.constantFrom("import", "nope", "..", ".", "x".repeat(129), "A".repeat(128)),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
  weird,
);
const anyMethod = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");
/** Route tails under `/v1/sessions/:id`, each with the methods it answers. */
const ROUTES: [string, string[]][] = [
  ["", ["GET", "DELETE"]],
  ["/state", ["PATCH"]],
  ["/actions/add", ["POST"]],
  ["/actions/nope", ["POST"]],
  ["/actions/__proto__", ["POST"]],
  ["/pause", ["POST"]],
  ["/resume", ["POST"]],
  ["/complete", ["POST"]],
  ["/fail", ["POST"]],
  ["/fork", ["POST"]],
  ["/agents/bot", ["PUT"]],
  ["/agents/__proto__", ["PUT"]],
  ["/events", ["GET"]],
  ["/messages", ["GET", "POST"]],
  ["/results", ["GET", "POST"]],
  ["/checkpoints", ["GET", "POST"]],
  ["/checkpoints/CP/restore", ["POST"]],
  ["/tokens", ["POST"]],
  ["/timers", ["GET", "POST"]],
  ["/timers/tm1", ["DELETE"]],
  ["/approvals", ["GET", "POST"]],
  ["/approvals/ap1/decision", ["POST"]],
  ["/approvals/__proto__/decision", ["POST"]],
  ["/tasks", ["GET", "POST"]],
  ["/tasks/claim", ["POST"]],
  ["/tasks/t1/heartbeat", ["POST"]],
  ["/tasks/t1/complete", ["POST"]],
  ["/tasks/t1/fail", ["POST"]],
  ["/conflicts", ["GET", "POST"]],
  ["/conflicts/cf1/resolve", ["POST"]],
  ["/ws", ["GET"]],
  ["/", ["GET"]],
  ["/bogus/deeper", ["GET"]],
];
const route = fc.constantFrom(...ROUTES).chain(([tail, methods]) =>
  fc.record({
    tail: fc.constant(tail),
    method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...methods) }, {
      weight: 1,
      arbitrary: anyMethod,
    }),
  })
);
const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(id, route, fc.boolean()).map(([i, r, enc]) => ({
      method: r.method,
      path: `/v1/sessions/${enc ? encodeURIComponent(i.toWellFormed()) : i}${r.tail}`,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      method: anyMethod,
      path: fc.constantFrom(
        "/v1/sessions",
        "/v1/sessions/",
        "/healthz",
        "/metrics",
        "/v1",
        "/",
        "/v1/approvals",
        "/v1/cleanup",
        "/v1/openapi.json",
        "/docs",
        "/ui",
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ method: anyMethod, path: weird.map((w) => `/${w}`) }) },
);
const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        "limit",
        "cursor",
        "after",
        "before",
        "condensed",
        "status",
        "kind",
        "tag",
        "agent",
        "q",
        "key",
        "latest",
        "createdAfter",
        "createdBefore",
      ),
      weird,
    ),
    fc.oneof(
      weird,
      fc.integer().map(String),
      fc.constantFrom("1e999", "-1", "0", "500", "501", "true", "NaN", "2026-01-01T00:00:00Z"),
    ),
    { maxKeys: 3 },
  ).map((d) => "?" + new URLSearchParams(d).toString()),
  weird.map((w) => `?${w}`),
);

const validish = fc.oneof(
  fc.record({
    args: fc.record({ by: fc.oneof(fc.integer(), fc.double(), fc.string()) }),
    id: fc.option(weird, { nil: undefined }),
  }),
  fc.array(
    fc.record({
      op: fc.constantFrom("add", "replace", "remove", "test", "move", "copy", "bad"),
      path: fc.oneof(
        fc.constantFrom("/n", "", "/a/b", "/__proto__/x", "/constructor/prototype"),
        weird,
      ),
      value: fc.jsonValue(),
      from: fc.option(fc.constantFrom("/n", "/m"), { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
  fc.record({
    role: weird,
    content: weird,
    meta: fc.option(fc.dictionary(weird, fc.jsonValue()), { nil: undefined }),
  }),
  fc.record({
    key: weird,
    data: fc.jsonValue(),
    partial: fc.option(fc.boolean(), { nil: undefined }),
    agent: fc.option(weird, { nil: undefined }),
  }),
  fc.record({ status: weird, progress: fc.option(fc.double(), { nil: undefined }) }),
  fc.record({ report: fc.jsonValue() }),
  fc.record({ error: weird }),
  fc.record({
    id: fc.option(id, { nil: undefined }),
    checkpoint: fc.option(id, { nil: undefined }),
  }),
  fc.record({
    agent: fc.option(weird, { nil: undefined }),
    ttl: fc.option(fc.oneof(fc.double(), weird), { nil: undefined }),
  }),
  fc.record({
    kind: fc.option(fc.constantFrom("default", "counter", "nope"), { nil: undefined }),
    id: fc.option(id, { nil: undefined }),
    state: fc.option(fc.dictionary(weird, fc.jsonValue()), { nil: undefined }),
    ttl: fc.option(fc.record({ active: fc.oneof(fc.double(), weird) }), { nil: undefined }),
    tags: fc.option(fc.array(weird), { nil: undefined }),
  }),
  // SPEC §9 bodies: timers, approvals, decisions, plans, claims, conflicts, resolutions.
  fc.record({
    id: fc.option(weird, { nil: undefined }),
    in: fc.option(fc.oneof(weird, fc.double(), fc.constantFrom("1s", "10m", "0s")), {
      nil: undefined,
    }),
    at: fc.option(fc.oneof(weird, fc.integer()), { nil: undefined }),
    action: fc.option(fc.constantFrom("add", "nope", "__proto__"), { nil: undefined }),
    data: fc.option(fc.jsonValue(), { nil: undefined }),
  }),
  fc.record({
    prompt: weird,
    deadline: fc.oneof(weird, fc.double(), fc.constantFrom("30m", "2026-01-01T00:00:00Z")),
    options: fc.option(fc.array(weird, { maxLength: 4 }), { nil: undefined }),
    onDeadline: fc.option(weird, { nil: undefined }),
  }),
  fc.record({ option: weird, by: fc.option(weird, { nil: undefined }), comment: weird }),
  fc.record({
    tasks: fc.array(
      fc.record({
        id: fc.oneof(weird, fc.constantFrom("t1", "t2", "__proto__")),
        title: weird,
        deps: fc.option(fc.array(fc.constantFrom("t1", "t2", "x"), { maxLength: 2 }), {
          nil: undefined,
        }),
        maxAttempts: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
      }),
      { maxLength: 3 },
    ),
    approval: fc.option(fc.record({ prompt: weird, deadline: weird }), { nil: undefined }),
  }),
  fc.record({
    agent: fc.oneof(weird, fc.constantFrom("bot", "a")),
    lease: fc.option(fc.oneof(weird, fc.double()), { nil: undefined }),
    task: fc.option(fc.constantFrom("t1", "t2", "__proto__"), { nil: undefined }),
    result: fc.option(fc.jsonValue(), { nil: undefined }),
    error: fc.option(weird, { nil: undefined }),
  }),
  fc.record({
    entity: weird,
    type: weird,
    severity: fc.oneof(weird, fc.constantFrom("low", "high")),
    findings: fc.array(fc.record({ agent: weird, claim: weird }), { maxLength: 3 }),
  }),
  fc.record({ resolution: fc.jsonValue(), by: fc.option(weird, { nil: undefined }) }),
);
const body = fc.oneof(
  fc.constant(undefined),
  { weight: 4, arbitrary: validish.map((v) => JSON.stringify(v)) },
  fc.jsonValue().map((v) => JSON.stringify(v)),
  weird,
  fc.uint8Array({ maxLength: 32 }),
  fc.constantFrom(
    "null",
    "[]",
    "{}",
    "1e999",
    '"\\ud800"',
    '{"__proto__":{"x":1}}',
    "{".repeat(300),
    "[".repeat(300) + "]".repeat(300),
    '{"args":1e999}',
    "\uFEFF{}",
  ),
);
const headers = fc.record({
  "If-Match": fc.option(fc.oneof(fc.constantFrom('"1"', '"2"', "*", 'W/"1"'), headerValue), {
    nil: undefined,
  }),
  "If-None-Match": fc.option(fc.oneof(fc.constantFrom('"1"', "*"), headerValue), {
    nil: undefined,
  }),
  "Idempotency-Key": fc.option(headerValue, { nil: undefined }),
  "Content-Type": fc.option(
    fc.constantFrom("application/json", "text/plain", "multipart/form-data"),
    { nil: undefined },
  ),
  "Content-Length": fc.option(fc.constantFrom("0", "1", "-1", "abc", "99999999999"), {
    nil: undefined,
  }),
}, { requiredKeys: [] });
const request = fc.record({ target, query, body, headers }).map(({ target, ...rest }) => ({
  ...target,
  ...rest,
}));
type Fuzzed = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** Builds the request, or undefined when the input cannot even form one (not the app's concern). */
function build(r: Fuzzed, extra: Record<string, string>): Request | undefined {
  const h: Record<string, string> = { ...extra };
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) h[k] = v;
  const hasBody = r.method !== "GET" && r.method !== "HEAD" && r.body !== undefined;
  try {
    return new Request(`http://localhost${r.path}${r.query}`, {
      method: r.method,
      headers: h,
      body: hasBody ? r.body as BodyInit : undefined,
    });
  } catch {
    return undefined;
  }
}

/** Makes sure `s1` and `c1` are active and `done` is completed, so that most requests reach a handler. */
async function reset(rt: Runtime): Promise<void> {
  const want: [string, string, string][] = [["s1", "default", "active"], [
    "c1",
    "counter",
    "active",
  ], [
    "done",
    "default",
    "completed",
  ]];
  for (const [id, kind, status] of want) {
    const s = await rt.get(id).catch(() => undefined);
    if (s?.status === status) continue;
    if (s) await rt.delete(id);
    await rt.create(kind, { id, ...(kind === "default" ? { state: { n: 1, m: [] } } : {}) });
    if (status === "completed") await rt.complete(id);
  }
}

async function neverA500(rt: Runtime, r: Fuzzed, extra: Record<string, string>): Promise<void> {
  const req = build(r, extra);
  if (req === undefined) return;
  const res = await rt.app.request(req);
  const text = await res.text();
  assert.notEqual(res.status, 500, `${r.method} ${r.path}${r.query} → ${text.slice(0, 300)}`);
  if (res.status >= 400 && r.method !== "HEAD" && !new URL(req.url).pathname.endsWith("/ws")) {
    const parsed = JSON.parse(text);
    assert.equal(typeof parsed.error.code, "string");
    assert.equal(typeof parsed.error.message, "string");
  }
}

async function stillServes(rt: Runtime, headers: Record<string, string>): Promise<void> {
  assert.equal((await call(rt, "GET", "/healthz")).status, 200);
  const created = await call(rt, "POST", "/v1/sessions", {
    body: { state: { ok: true } },
    headers,
  });
  assert.equal(created.status, 201);
  const read = await call(rt, "GET", `/v1/sessions/${created.body.id}`, { headers });
  assert.deepEqual(read.body.state, { ok: true });
}

Deno.test("fuzz: no random or malformed request gets a 500, and the runtime still serves afterwards", () =>
  withRuntime(async (rt) => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        await reset(rt);
        await neverA500(rt, r, {});
      }),
      { numRuns: 1000 },
    );
    await stillServes(rt, {});
  }));

Deno.test("fuzz: with a server token, random requests and credentials never get a 500", () =>
  withRuntime(async (rt) => {
    const server = bearer("fuzz-secret");
    await reset(rt);
    const minted = await call(rt, "POST", "/v1/sessions/s1/tokens", {
      body: { agent: "bot" },
      headers: server,
    });
    const auth = fc.oneof(
      fc.constant(server),
      fc.constant(bearer(minted.body.token)),
      fc.constant({}),
      headerValue.map((w) => ({ Authorization: `Bearer ${w}` })),
      headerValue.map((w) => ({ "Sec-WebSocket-Protocol": `bearer.${w}` })),
    );
    await fc.assert(
      fc.asyncProperty(request, auth, async (r, a) => {
        await reset(rt);
        await neverA500(rt, r, a);
      }),
      { numRuns: 400 },
    );
    await stillServes(rt, server);
  }, { token: "fuzz-secret" }));
