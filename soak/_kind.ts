/** The session kind of the soak. */
import { z } from "zod";
import { defineSession } from "../mod.ts";

/** Appends are not commutative: the lists in the state show the order commands were applied in. */
export const soakKind = defineSession({
  kind: "soak",
  state: z.object({
    actions: z.record(z.string(), z.array(z.number())).default({}),
    fired: z.array(z.string()).default([]),
  }).catchall(z.unknown()),
  actions: {
    append: {
      args: z.object({ client: z.string(), n: z.number().int() }),
      run(ctx, { client, n }) {
        (ctx.state.actions[client] ??= []).push(n);
        return { n };
      },
    },
    fire: {
      args: z.object({ tid: z.string() }),
      run(ctx, { tid }) {
        ctx.state.fired.push(tid);
      },
    },
  },
});
