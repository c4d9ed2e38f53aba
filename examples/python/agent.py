"""An agent in Python: works through a session's plan, then asks a person before it publishes.

It connects to a Denizen session over WebSocket, reports its status and
progress, claims the plan's tasks one at a time, records a result and a
message for each and completes it, then requests an approval and waits for
the decision. It keeps going when the server goes away and comes back:
``denizen.Session`` reconnects, replays what it missed and resends what was
not acknowledged, and the server applies each command once.

    /usr/bin/python3 examples/python/agent.py --url http://127.0.0.1:8000 --session demo

The session and its plan come first, from a person or a program (see
``examples/README.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from denizen import Session


def say(line: str) -> None:
    print(line, flush=True)


async def work_through_plan(session: Session, name: str, work: float, lease: str) -> list[str]:
    """Claims ready tasks until none is left; returns the ids of those it completed."""
    plan = len(session.coordination.get("tasks", {}))
    done: list[str] = []
    while (task := await session.claim(lease=lease)) is not None:
        tid = task["id"]
        say(f"claimed {tid}: {task['title']}")
        await session.agent("working", progress=len(done) / max(plan, 1), task=tid)
        await asyncio.sleep(work / 2)  # the agent's real work goes here
        await session.heartbeat(tid, lease=lease)
        await asyncio.sleep(work / 2)
        finding = {"task": tid, "summary": f"{name} looked into {task['title']}"}
        await session.result(tid, finding)
        await session.message("assistant", f"{name} finished {tid}: {task['title']}")
        await session.complete(tid, result=finding)
        done.append(tid)
        say(f"completed {tid}")
    return done


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server")
    parser.add_argument("--session", required=True, help="the session's id")
    parser.add_argument("--agent", default="py-agent", help="this agent's name")
    parser.add_argument("--token", default=os.environ.get("DENIZEN_TOKEN"), help="bearer token")
    parser.add_argument("--work", type=float, default=0.2, help="seconds of work per task")
    parser.add_argument("--lease", default="60s", help="lease of each claim")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="denizen: %(message)s", stream=sys.stderr)

    url = f"{args.url.rstrip('/')}/v1/sessions/{args.session}/ws"
    async with Session(url, args.agent, token=args.token, max_delay=2.0) as session:
        say(f"connected to {args.session} at seq {session.seq}")
        await session.agent("starting", progress=0.0)
        await session.message("assistant", f"{args.agent} is on it")

        done = await work_through_plan(session, args.agent, args.work, args.lease)

        await session.agent("waiting", progress=0.9)
        approval = await session.approval(
            f"Publish the findings of {len(done)} tasks?",
            deadline="10m",
            data={"tasks": done},
        )
        say(f"waiting for approval {approval['id']}")
        decided = await session.wait_for_decision(approval["id"])
        option = decided.get("option", decided["status"])
        say(f"decision: {option} by {decided.get('by', 'nobody')}")

        verdict = "published" if option == "approve" else "held back"
        await session.result("report", {"tasks": done, "decision": option})
        await session.message("assistant", f"Report {verdict}")
        await session.agent("done", progress=1.0)
        say(f"done: {len(done)} tasks, {session.reconnects} reconnects")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
