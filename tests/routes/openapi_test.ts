import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import type { Runtime } from "../../mod.ts";
import { clientFrame } from "../../routes/ws_frames.ts";
import { Peer } from "../ws/_harness.ts";
import { type Answer, bearer, call, type CallOptions, withRuntime } from "./_fixtures.ts";

// deno-lint-ignore no-explicit-any -- an OpenAPI document is arbitrary JSON to these tests
type Json = any;

// ajv-formats is CommonJS: its plugin is the module's `default`.
const addFormats = formats.default;

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];

/** The document the app serves. */
async function documentOf(rt: Runtime, headers: Record<string, string> = {}): Promise<Json> {
  const res = await call(rt, "GET", "/v1/openapi.json", { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return res.body;
}

/** `GET /v1/sessions/{id}` for every operation of the document. */
function operations(doc: Json): string[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`)
  );
}

/**
 * JSON Schema 2020-12 (the dialect of OpenAPI 3.1) over the document's
 * schemas, strict: a schema that is not valid JSON Schema does not compile.
 * References to `#/components/schemas/X` resolve against the document.
 */
class Schemas {
  readonly doc: Json;
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<object, ValidateFunction>();

  constructor(doc: Json) {
    this.#ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(this.#ajv);
    // Annotations the OpenAPI 3.1 dialect adds to JSON Schema.
    for (const keyword of ["example", "discriminator", "xml", "externalDocs"]) {
      this.#ajv.addKeyword(keyword);
    }
    const text = JSON.stringify(doc).replaceAll(
      '"#/components/schemas/',
      '"https://denizen.invalid/openapi.json#/$defs/',
    );
    this.doc = JSON.parse(text);
    this.#ajv.addSchema({
      $id: "https://denizen.invalid/openapi.json",
      $defs: this.doc.components.schemas,
    });
  }

  /** The validator of `schema` (a schema object of the document). */
  validator(schema: object): ValidateFunction {
    let v = this.#compiled.get(schema);
    if (v === undefined) {
      v = this.#ajv.compile(schema);
      this.#compiled.set(schema, v);
    }
    return v;
  }

  /** Asserts that `value` matches `schema`, saying where when it does not. */
  assertMatches(schema: object, value: unknown, where: string): void {
    const v = this.validator(schema);
    assert.ok(v(value), `${where}: ${JSON.stringify(v.errors, null, 1)}\n${JSON.stringify(value)}`);
  }

  /** The operation `METHOD /path/{template}`. */
  operation(method: string, template: string): Json {
    const op = this.doc.paths[template]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${template} is in the document`);
    return op;
  }
}

/** Every media type object of the document with the place it is at: bodies and answers. */
function mediaTypes(doc: Json): [string, Json][] {
  const out: [string, Json][] = [];
  for (const op of operations(doc)) {
    const [method, path] = op.split(" ");
    const o = doc.paths[path][method.toLowerCase()];
    for (const [type, media] of Object.entries(o.requestBody?.content ?? {})) {
      out.push([`${op} body ${type}`, media]);
    }
    for (const [status, answer] of Object.entries(o.responses as Record<string, Json>)) {
      for (const [type, media] of Object.entries(answer.content ?? {})) {
        out.push([`${op} ${status} ${type}`, media]);
      }
    }
  }
  return out;
}

Deno.test("GET /v1/openapi.json documents every route the app registers, and no other", () =>
  withRuntime(async (rt) => {
    const doc = await documentOf(rt);
    const registered = new Set(
      rt.app.routes
        .filter((r) => r.method !== "ALL") // middleware (the token check)
        .map((r) => `${r.method} ${r.path.replaceAll(/:([A-Za-z0-9_]+)/g, "{$1}")}`),
    );
    assert.deepEqual(operations(doc).sort(), [...registered].sort());
    assert.ok(registered.size >= 50, `${registered.size} routes`);
    for (const op of operations(doc)) {
      const [method, path] = op.split(" ");
      const o = doc.paths[path][method.toLowerCase()];
      assert.ok(o.summary, `${op} has a summary`);
      assert.ok(o.tags?.length === 1, `${op} has a tag`);
      const statuses = Object.keys(o.responses);
      assert.ok(statuses.some((s) => /^[123]/.test(s)), `${op} documents its success`);
      const names = (o.parameters ?? []).filter((p: Json) => p.in === "path").map((p: Json) =>
        p.name
      );
      assert.deepEqual(names.sort(), [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
  }));

Deno.test("the document is a valid OpenAPI 3.1 document, and a broken copy is not", () =>
  withRuntime(async (rt) => {
    const doc = await documentOf(rt);
    assert.equal(doc.openapi, "3.1.0");
    const result = await new Validator().validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
    const broken = structuredClone(doc);
    delete broken.paths["/v1/sessions"].get.responses;
    broken.paths["/v1/sessions"].get.parameters[0].in = "body";
    assert.equal((await new Validator().validate(broken)).valid, false);
  }));

Deno.test("every schema of the document is JSON Schema 2020-12, and every example matches its schema", () =>
  withRuntime(async (rt) => {
    const schemas = new Schemas(await documentOf(rt));
    const doc = schemas.doc;
    for (const name of Object.keys(doc.components.schemas)) {
      schemas.validator({ $ref: `https://denizen.invalid/openapi.json#/$defs/${name}` });
    }
    let examples = 0;
    for (const [where, media] of mediaTypes(doc)) {
      if (media.schema === undefined) continue;
      schemas.validator(media.schema);
      if (media.example !== undefined) {
        schemas.assertMatches(media.schema, media.example, where);
        examples++;
      }
    }
    for (const op of operations(doc)) {
      const [method, path] = op.split(" ");
      for (const p of doc.paths[path][method.toLowerCase()].parameters ?? []) {
        if (p.schema.example !== undefined) {
          schemas.assertMatches(p.schema, p.schema.example, `${op} ${p.in} ${p.name}`);
          examples++;
        }
      }
    }
    assert.ok(examples >= 80, `${examples} examples`);
  }));

Deno.test("every error answer is documented as the envelope {error: {code, message, details?}}", () =>
  withRuntime(async (rt) => {
    const doc = await documentOf(rt);
    const envelope = doc.components.schemas.Error;
    assert.deepEqual(envelope.properties.error.required.sort(), ["code", "message"]);
    for (const [where, media] of mediaTypes(doc)) {
      const status = Number(where.split(" ")[2]);
      if (status >= 400) {
        assert.deepEqual(media.schema, { $ref: "#/components/schemas/Error" }, where);
      }
    }
  }));

Deno.test("real answers of every documented route match the document", () =>
  withRuntime(async (rt) => {
    const schemas = new Schemas(await documentOf(rt));
    const seen = new Set<string>();
    /** Sends `method path` and checks the answer against the operation `template`. */
    const send = async (
      method: string,
      template: string,
      path: string,
      opts: CallOptions = {},
    ): Promise<Answer> => {
      const res = await call(rt, method, path, opts);
      const op = schemas.operation(method, template);
      const answer = op.responses[String(res.status)];
      assert.ok(
        answer,
        `${method} ${template} documents ${res.status}: ${JSON.stringify(res.body)}`,
      );
      const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
      if (res.status === 204 || res.status === 304) {
        assert.equal(answer.content, undefined, `${method} ${template} ${res.status} has no body`);
      } else if (type === "application/json") {
        const media = answer.content?.["application/json"];
        assert.ok(media, `${method} ${template} ${res.status} is documented as JSON`);
        schemas.assertMatches(media.schema, res.body, `${method} ${path} ${res.status}`);
      } else {
        const types = Object.keys(answer.content ?? {});
        assert.ok(
          types.includes(type) || types.includes("*/*"),
          `${method} ${template} ${res.status} answers ${type}, documented ${types}`,
        );
      }
      seen.add(`${method} ${template}`);
      return res;
    };
    const S = "/v1/sessions";
    const I = `${S}/{id}`;

    // sessions
    await send("POST", S, S, { body: { id: "demo", name: "ACME", state: { q: "ACME" } } });
    await send("POST", S, S, { body: { id: "c1", kind: "counter" } });
    const got = await send("GET", I, `${S}/demo`);
    await send("GET", I, `${S}/demo`, { headers: { "If-None-Match": got.headers.get("etag")! } });
    await send("GET", S, `${S}?limit=1`);
    await send("GET", S, `${S}?count=true&q=acme`);
    await send("PATCH", `${I}/state`, `${S}/demo/state`, {
      body: [{ op: "add", path: "/x", value: 1 }],
      headers: { "Idempotency-Key": "p1" },
    });
    await send("PATCH", `${I}/state`, `${S}/demo/state`, {
      body: [{ op: "add", path: "/y", value: 1 }],
      headers: { "If-Match": '"1"' },
    });
    await send("PATCH", I, `${S}/demo`, { body: { phase: "planning", meta: { a: 1 } } });
    await send("GET", I, `${S}/nope`);
    await send("GET", I, `${S}/bad.id`);
    await send("POST", S, S, { body: { bogus: 1 } });
    await send("POST", S, S, { body: "x".repeat(1_200_000) });
    await send("POST", `${I}/actions/{name}`, `${S}/c1/actions/add`, { body: { args: { by: 2 } } });
    await send("PUT", `${I}/agents/{agent}`, `${S}/demo/agents/scout`, {
      body: { status: "working", progress: 0.5 },
    });

    // history
    await send("POST", `${I}/messages`, `${S}/demo/messages`, {
      body: { role: "user", content: "hi" },
    });
    await send("GET", `${I}/messages`, `${S}/demo/messages`);
    await send("GET", `${I}/messages`, `${S}/demo/messages?condensed=1`);
    await send("POST", `${I}/results`, `${S}/demo/results`, { body: { key: "k", data: [1] } });
    await send("GET", `${I}/results`, `${S}/demo/results?latest=true`);
    const cp = await send("POST", `${I}/checkpoints`, `${S}/demo/checkpoints`, {
      body: { label: "one" },
    });
    await send("GET", `${I}/checkpoints`, `${S}/demo/checkpoints`);
    await send(
      "POST",
      `${I}/checkpoints/{cp}/restore`,
      `${S}/demo/checkpoints/${cp.body.checkpoint}/restore`,
    );
    await send("GET", `${I}/events`, `${S}/demo/events?after=1`);

    // coordination
    const timer = await send("POST", `${I}/timers`, `${S}/demo/timers`, { body: { in: "10m" } });
    await send("GET", `${I}/timers`, `${S}/demo/timers`);
    await send("DELETE", `${I}/timers/{tid}`, `${S}/demo/timers/${timer.body.timer.id}`);
    await send("DELETE", `${I}/timers/{tid}`, `${S}/demo/timers/${timer.body.timer.id}`);
    const ap = await send("POST", `${I}/approvals`, `${S}/demo/approvals`, {
      body: { prompt: "Publish?", deadline: "30m" },
    });
    await send("POST", `${I}/approvals`, `${S}/demo/approvals`, {
      body: { prompt: "Later?", deadline: "1h", options: ["yes", "no"], data: { n: 1 } },
    });
    await send("GET", "/v1/approvals", "/v1/approvals?status=pending");
    await send("GET", "/v1/approvals", "/v1/approvals?limit=0");
    const decide = `${I}/approvals/{aid}/decision`;
    await send("POST", decide, `${S}/demo/approvals/${ap.body.approval.id}/decision`, {
      body: { option: "approve", by: "alice" },
    });
    await send("POST", decide, `${S}/demo/approvals/${ap.body.approval.id}/decision`, {
      body: { option: "reject" },
    });
    await send("GET", `${I}/approvals`, `${S}/demo/approvals?status=decided`);
    await send("POST", `${I}/tasks`, `${S}/demo/tasks`, {
      body: { tasks: [{ id: "t1", title: "One" }, { id: "t2", title: "Two", deps: ["t1"] }] },
    });
    await send("GET", `${I}/tasks`, `${S}/demo/tasks`);
    await send("POST", `${I}/tasks/claim`, `${S}/demo/tasks/claim`, { body: { agent: "scout" } });
    await send("POST", `${I}/tasks/{tid}/heartbeat`, `${S}/demo/tasks/t1/heartbeat`, {
      body: { agent: "scout" },
    });
    await send("POST", `${I}/tasks/{tid}/heartbeat`, `${S}/demo/tasks/t1/heartbeat`, {
      body: { agent: "other" },
    });
    await send("POST", `${I}/tasks/{tid}/complete`, `${S}/demo/tasks/t1/complete`, {
      body: { agent: "scout", result: { hits: 1 } },
    });
    await send("POST", `${I}/tasks/claim`, `${S}/demo/tasks/claim`, { body: { agent: "scout" } });
    await send("POST", `${I}/tasks/{tid}/fail`, `${S}/demo/tasks/t2/fail`, {
      body: { agent: "scout", error: "no" },
    });
    const none = await send("POST", `${I}/tasks/claim`, `${S}/demo/tasks/claim`, {
      body: { agent: "scout" },
    });
    assert.equal(none.body.task, null);
    const cf = await send("POST", `${I}/conflicts`, `${S}/demo/conflicts`, {
      body: {
        entity: "ACME",
        type: "year",
        findings: [{ agent: "a", claim: "1999" }, { agent: "b", claim: "2001" }],
        severity: "low",
      },
    });
    await send("GET", `${I}/conflicts`, `${S}/demo/conflicts?resolved=false`);
    await send(
      "POST",
      `${I}/conflicts/{cid}/resolve`,
      `${S}/demo/conflicts/${cf.body.conflict.id}/resolve`,
      {
        body: { resolution: "1999" },
      },
    );

    // lifecycle and archive
    await send("POST", `${I}/fork`, `${S}/demo/fork`, { body: { id: "f1" } });
    await send("POST", `${I}/pause`, `${S}/f1/pause`);
    await send("POST", `${I}/resume`, `${S}/f1/resume`);
    await send("POST", `${I}/complete`, `${S}/f1/complete`, { body: { report: { ok: true } } });
    await send("POST", `${I}/resume`, `${S}/f1/resume`);
    await send("POST", `${I}/fail`, `${S}/c1/fail`, { body: { error: "boom" } });
    await send("POST", `${I}/archive`, `${S}/f1/archive`);
    const exported = await rt.app.request(`${S}/c1/export`);
    const tarGz = new Uint8Array(await exported.arrayBuffer());
    await send("GET", `${I}/export`, `${S}/c1/export`);
    await send("DELETE", I, `${S}/c1`);
    await send("POST", `${S}/import`, `${S}/import`, { body: tarGz });
    await send("POST", `${S}/import`, `${S}/import`, { body: tarGz });
    await send("POST", `${I}/tokens`, `${S}/demo/tokens`);
    await send("POST", "/v1/cleanup", "/v1/cleanup", { body: { dryRun: true } });

    // the rest
    await send("GET", "/healthz", "/healthz");
    await send("GET", "/metrics", "/metrics");
    await send("GET", "/v1/openapi.json", "/v1/openapi.json");
    await send("GET", "/docs", "/docs");
    await send("GET", "/docs/{file}", "/docs/docs.js");
    await send("GET", "/docs/{file}", "/docs/nope.js");
    await send("GET", "/ui", "/ui");
    await send("GET", "/ui/", "/ui/");
    await send("GET", "/ui/{file}", "/ui/main.js");
    await send("GET", `${I}/ws`, `${S}/demo/ws`);

    const unseen = operations(schemas.doc).filter((op) => !seen.has(op));
    assert.deepEqual(unseen, [], "every documented route was called");
  }));

Deno.test("with a token: /v1/openapi.json needs it like every /v1 route; /docs and /healthz do not", () =>
  withRuntime(async (rt) => {
    assert.equal((await call(rt, "GET", "/v1/openapi.json")).status, 401);
    assert.equal((await call(rt, "GET", "/docs")).status, 200);
    const doc = await documentOf(rt, bearer("s3cret"));
    assert.deepEqual(doc.security, [{ bearer: [] }]);
    assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
    const open = operations(doc).filter((op) => {
      const [method, path] = op.split(" ");
      return doc.paths[path][method.toLowerCase()].security?.length === 0;
    });
    assert.deepEqual(open.sort(), [
      "GET /docs",
      "GET /docs/{file}",
      "GET /healthz",
      "GET /ui",
      "GET /ui/",
      "GET /ui/{file}",
    ]);
    for (const op of operations(doc).filter((o) => !open.includes(o))) {
      const [method, path] = op.split(" ");
      assert.ok(doc.paths[path][method.toLowerCase()].responses["401"], `${op} documents 401`);
    }
    await call(rt, "POST", "/v1/sessions", { body: { id: "A" }, headers: bearer("s3cret") });
    const minted = await call(rt, "POST", "/v1/sessions/A/tokens", { headers: bearer("s3cret") });
    const res = await call(rt, "GET", "/v1/openapi.json", { headers: bearer(minted.body.token) });
    assert.equal(res.status, 403, "a session token reaches its own session only");
  }, { token: "s3cret" }));

Deno.test("GET /docs serves the page and its two files, with no external resource", () =>
  withRuntime(async (rt) => {
    const page = await call(rt, "GET", "/docs");
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    for (const file of ["docs.js", "docs.css"]) {
      const res = await call(rt, "GET", `/docs/${file}`);
      assert.equal(res.status, 200, file);
      assert.doesNotMatch(res.body, /https?:\/\//, `${file} loads nothing from elsewhere`);
    }
    assert.doesNotMatch(page.body, /https?:\/\//);
    assert.match(page.body, /src="docs\.js"/);
    assert.equal((await call(rt, "GET", "/docs/..%2Fdocs.ts")).status, 404);
  }));

Deno.test("a failed path parameter or query is 400 in the envelope, naming what failed, with zod's issues", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s" } });
    const cases: [string, string, string][] = [
      ["GET", "/v1/sessions/bad.id", "Invalid session id"],
      ["DELETE", "/v1/sessions/s/timers/a%20b", "Invalid timer id"],
      ["POST", "/v1/sessions/s/tasks/a%20b/fail", "Invalid task id"],
      ["POST", "/v1/sessions/s/approvals/a%20b/decision", "Invalid approval id"],
      ["PUT", "/v1/sessions/s/agents/a%20b", "Invalid agent name"],
      ["POST", "/v1/sessions/s/actions/a%20b", "Invalid action name"],
      ["GET", "/v1/sessions?limit=0", "Invalid query"],
      ["GET", "/v1/sessions/s/events?after=x", "Invalid query"],
      ["GET", "/v1/sessions/s?x=1", "Invalid query"],
    ];
    for (const [method, path, message] of cases) {
      const res = await call(rt, method, path, { body: method === "GET" ? undefined : {} });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.equal(res.body.error.code, "invalid");
      assert.equal(res.body.error.message, message, `${method} ${path}`);
      assert.ok(Array.isArray(res.body.error.details) && res.body.error.details[0].message);
    }
  }));

Deno.test("a JSON body is read whatever its Content-Type, and an empty one reads as {}", () =>
  withRuntime(async (rt) => {
    const types = ["text/plain", "application/x-www-form-urlencoded", "application/json"];
    for (const [i, type] of types.entries()) {
      const res = await call(rt, "POST", "/v1/sessions", {
        body: JSON.stringify({ id: `s${i}` }),
        headers: { "Content-Type": type },
      });
      assert.equal(res.status, 201, type);
    }
    assert.equal((await call(rt, "POST", "/v1/sessions/s0/pause")).status, 200);
    const bad = await call(rt, "POST", "/v1/sessions", {
      body: JSON.stringify({ id: "x", bogus: 1 }),
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(bad.body.error.message, "Invalid session");
  }));

Deno.test("the WebSocket route documents every frame: real frames match ClientFrame and ServerFrame", () =>
  withRuntime(async (rt) => {
    const schemas = new Schemas(await documentOf(rt));
    const ws = schemas.operation("GET", "/v1/sessions/{id}/ws");
    assert.deepEqual(ws["x-websocket"].clientFrame, {
      $ref: "https://denizen.invalid/openapi.json#/$defs/ClientFrame",
    });
    assert.ok(ws.responses["101"] && ws.responses["426"]);
    const client = { $ref: "https://denizen.invalid/openapi.json#/$defs/ClientFrame" };
    const server = { $ref: "https://denizen.invalid/openapi.json#/$defs/ServerFrame" };
    for (const t of clientFrame.options.map((o) => o.shape.t.value)) {
      assert.match(ws.description, new RegExp(`\\| \`${t}\` \\|`), `frame ${t} is in the table`);
    }

    await call(rt, "POST", "/v1/sessions", { body: { id: "w", kind: "counter" } });
    const sent = [
      { t: "action", id: "a1", name: "add", args: { by: 1 } },
      { t: "patch", id: "p1", ops: [{ op: "replace", path: "/n", value: 5 }], ifVersion: 2 },
      { t: "agent", id: "g1", status: "working", progress: 0.5 },
      { t: "message", id: "m1", role: "user", content: "hi" },
      { t: "result", id: "r1", key: "k", data: { v: 1 } },
      { t: "approval", id: "ap", prompt: "Ok?", deadline: "5m" },
      { t: "claim", id: "c1" },
      { t: "timer", id: "tm", in: "1h", data: "later" },
      { t: "update", id: "u1", phase: "working" },
      { t: "ping" },
      { t: "action", id: "bad", name: "nope" },
    ];
    const refused = [{ t: "nope" }, { t: "ping", extra: 1 }, { t: "action", name: "add" }];
    for (const frame of sent) {
      schemas.assertMatches(client, frame, `client frame ${frame.t}`);
      assert.ok(clientFrame.safeParse(frame).success);
    }
    for (const frame of refused) {
      assert.equal(schemas.validator(client)(frame), false, JSON.stringify(frame));
      assert.equal(clientFrame.safeParse(frame).success, false);
    }

    const server$ = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, rt.app.fetch);
    try {
      const url = `ws://127.0.0.1:${server$.addr.port}/v1/sessions/w/ws?agent=scout`;
      const peer = await Peer.open(url);
      for (const frame of [...sent, ...refused]) peer.send(frame);
      await peer.next((f) => f.t === "error" && f.id === "bad");
      await peer.roundTrip();
      const replay = await Peer.open(`${url.replace("agent=scout", "agent=late")}&since=1`);
      const kinds = new Set<string>();
      for (const f of [...peer.frames, ...replay.frames]) {
        schemas.assertMatches(server, f, `server frame ${f.t}`);
        kinds.add(f.t);
      }
      assert.deepEqual([...kinds].sort(), ["ack", "error", "event", "pong", "presence", "welcome"]);
      await replay.close();
      await peer.close();
    } finally {
      await server$.shutdown();
    }
  }));
