/**
 * A session kind of your own: a support ticket with a zod state, typed
 * actions, and a durable timer. Waiting for the customer schedules an
 * escalation with `ctx.schedule`, in the same commit as the wait; if the
 * customer has not answered when it comes due, the scheduler runs the
 * `escalate` action (once, even across a crash). A customer's reply cancels
 * it.
 *
 * The kind lives in this process, so the example always starts its own
 * runtime (in memory, the scheduler polling every 20 ms) and serves it, and
 * an agent drives the ticket over WebSocket with actions typed by the kind.
 *
 *     deno run -A examples/custom_kind.ts
 *
 * @module
 */
import { z } from "zod";
import { connect, DenizenClientError } from "../client.ts";
import { defineSession } from "../mod.ts";
import { openPlace } from "./_place.ts";

const ticket = defineSession({
  kind: "support-ticket",
  state: z.object({
    title: z.string().min(1),
    status: z.enum(["open", "waiting", "escalated", "closed"]).default("open"),
    notes: z.array(z.string()).default([]),
    followUp: z.string().optional(),
  }),
  ttl: { active: "7d" },
  actions: {
    note: {
      args: z.object({ text: z.string().min(1) }),
      run(ctx, { text }) {
        ctx.state.notes.push(text);
        return { notes: ctx.state.notes.length };
      },
    },
    awaitCustomer: {
      args: z.object({ within: z.string() }),
      run(ctx, { within }) {
        ctx.state.status = "waiting";
        ctx.state.followUp = ctx.schedule({ in: within }, "escalate", {
          reason: `no reply within ${within}`,
        });
        return { timer: ctx.state.followUp };
      },
    },
    customerReplied: {
      args: z.object({ text: z.string() }),
      run(ctx, { text }) {
        if (ctx.state.followUp) ctx.cancel(ctx.state.followUp);
        delete ctx.state.followUp;
        ctx.state.status = "open";
        ctx.state.notes.push(`customer: ${text}`);
      },
    },
    escalate: {
      args: z.object({ reason: z.string() }),
      run(ctx, { reason }) {
        if (ctx.state.status !== "waiting") return { escalated: false };
        ctx.state.status = "escalated";
        delete ctx.state.followUp;
        ctx.setPhase("escalated");
        ctx.emit("ticket.escalated", { reason });
        return { escalated: true };
      },
    },
  },
});

const place = await openPlace([], { kinds: [ticket], scheduleMs: 20 });
const rt = place.rt!;

const s = await rt.create("support-ticket", { state: { title: "Invoice shows the wrong VAT" } });
console.log(`ticket ${s.id}: ${s.state.title} (${s.state.status})`);

// An agent with the kind's types: action names, their args and results are checked.
const agent = await connect<typeof ticket>(place.ws(s.id), { agent: "triage", token: place.token });
// The mirror (`agent.state`) has the kind's state type, and events reach it before acks.
await agent.action("note", { text: "Asked for the invoice number" });
console.log(`note added: ${agent.state.notes.length} note(s)`);
await agent.action("note", { text: "" }).catch((e: DenizenClientError) => {
  console.log(`an empty note is refused: ${e.code}`);
});

// First wait: the customer answers in time, and the reply cancels the timer.
await agent.action("awaitCustomer", { within: "10m" });
console.log(`${agent.state.status} for the customer, follow-up timer ${agent.state.followUp}`);
await agent.action("customerReplied", { text: "It's INV-2041" });
console.log(`customer replied: ${(await rt.timers(s.id)).length} timer(s) pending`);

// Second wait: nobody answers, so the scheduler fires the timer.
const escalated = new Promise<{ reason: string }>((resolve) => {
  agent.on("event", (e) => {
    if (e.type === "ticket.escalated") resolve(e.data as { reason: string });
  });
});
const started = performance.now();
await agent.action("awaitCustomer", { within: "200ms" });
console.log(`${agent.state.status} again, follow-up timer ${agent.state.followUp} due in 200ms`);
const { reason } = await escalated;
const after = Math.round(performance.now() - started);
console.log(`escalated by the scheduler after ${after} ms: ${reason}`);

const now = await rt.get(s.id);
const types = (await rt.events(s.id)).map((e) => e.type);
console.log(
  `ticket ${now.state.status}, phase ${now.phase}, notes: ${agent.state.notes.join("; ")}`,
);
console.log(`timer events: ${types.filter((t) => t.startsWith("timer.")).join(", ")}`);

await agent.close();
await place.close();
