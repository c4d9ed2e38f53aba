"""A small Denizen client for agents written in Python (asyncio and ``websockets``).

It speaks the WebSocket protocol of Denizen (SPEC §5, and the coordination
frames of §9) so that an agent's author writes only the agent's logic::

    async with Session(url, agent="scout", token=token) as session:
        await session.agent("working", progress=0.1)
        task = await session.claim(lease="60s")
        ...
        await session.complete(task["id"], result={"hits": 12})

``url`` is the session's WebSocket route, ``ws://host/v1/sessions/<id>/ws``
(``http``/``https`` work too). The client keeps the seq of the last event it
saw, reconnects with exponential backoff and jitter, resumes with
``?since=<seq>``, and resends every unacknowledged command with its id, which
the server applies once. A command awaited while the server is away simply
takes longer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

Json = dict[str, Any]

log = logging.getLogger("denizen")

#: Close codes: the session is gone (give up), and the one this client uses for a gap in events.
GONE = 4004
GAP = 4009

#: Handshake answers that another attempt will not change.
FATAL_STATUS = frozenset({400, 401, 403, 404})


class DenizenError(Exception):
    """An error the server answered a command with, or a local one (``closed``, ``refused``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


class Session:
    """One agent's connection to one session. Create it with :meth:`Session.connect`."""

    def __init__(
        self,
        url: str,
        agent: str,
        *,
        token: str | None = None,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        on_event: Callable[[Json], None] | None = None,
    ) -> None:
        parts = urlsplit(url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        self._url = urlunsplit((scheme, parts.netloc, parts.path, "", ""))
        self.agent_name = agent
        self._token = token
        self._initial_delay = initial_delay
        self._max_delay = max_delay
        self._on_event = on_event
        #: Seq of the last event seen: a reconnection resumes after it.
        self.seq = 0
        #: The session as of the last welcome (without its state after a replay).
        self.session: Json = {}
        #: The session's approvals by id, kept current from the welcome and the events.
        self.approvals: dict[str, Json] = {}
        #: The session's timers, approvals, tasks and conflicts as of the last snapshot welcome.
        self.coordination: Json = {}
        #: Agents connected to the session.
        self.presence: list[str] = []
        #: Welcomes after the first: how often the connection was replaced.
        self.reconnects = 0
        self._pending: dict[str, tuple[str, asyncio.Future[Json]]] = {}
        self._outbox: asyncio.Queue[str] | None = None
        self._welcomed = asyncio.Event()
        self._welcomes = 0
        self._decisions: dict[str, list[asyncio.Future[Json]]] = {}
        self._closed: DenizenError | None = None
        self._runner: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, agent: str, **options: Any) -> Session:
        """Connects and returns once the server has welcomed the agent."""
        return await cls(url, agent, **options).__aenter__()

    async def __aenter__(self) -> Session:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        await self.ready()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def ready(self) -> None:
        """Waits until connected and welcomed; raises once the client is closed or refused."""
        assert self._runner is not None, "use Session.connect or async with"
        welcomed = asyncio.ensure_future(self._welcomed.wait())
        await asyncio.wait({welcomed, self._runner}, return_when=asyncio.FIRST_COMPLETED)
        if not welcomed.done():
            welcomed.cancel()
            raise self._closed or DenizenError("closed", "Client is closed")

    async def close(self) -> None:
        """Closes for good: pending commands and waits fail with ``closed``."""
        self._stop(DenizenError("closed", "Client is closed"))
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)

    # ---- commands (SPEC §5) -----------------------------------------------------------------

    async def agent(
        self,
        status: str,
        progress: float | None = None,
        task: str | None = None,
        error: str | None = None,
    ) -> Json:
        """Sets this agent's status, progress (0..1) and current task."""
        fields = _given(status=status, progress=progress, task=task, error=error)
        return await self.send({"t": "agent", **fields})

    async def patch(self, ops: list[Json], if_version: int | None = None) -> Json:
        """Applies RFC 6902 ops to the state, all or none; the ack carries the new version."""
        return await self.send({"t": "patch", "ops": ops, **_given(ifVersion=if_version)})

    async def message(self, role: str, content: str, meta: Json | None = None) -> Json:
        """Appends a message to the conversation; the ack's result holds its id."""
        fields = _given(meta=meta)
        return await self.send({"t": "message", "role": role, "content": content, **fields})

    async def result(self, key: str, data: Any, partial: bool = False) -> Json:
        """Records a result under ``key``."""
        return await self.send({"t": "result", "key": key, "data": data, "partial": partial})

    async def action(self, name: str, args: Json | None = None) -> Any:
        """Runs the session kind's action and returns what it returned."""
        return (await self.send({"t": "action", "name": name, "args": args or {}})).get("result")

    # ---- coordination (SPEC §9) -------------------------------------------------------------

    async def claim(self, lease: str | None = None, task: str | None = None) -> Json | None:
        """Takes the oldest ready task (or the one named) with a lease; None when none is ready."""
        ack = await self.send({"t": "claim", **_given(lease=lease, task=task)})
        claimed: Json | None = ack["result"]["task"]
        return claimed

    async def heartbeat(self, task: str, lease: str | None = None) -> Json:
        """Extends this agent's lease on ``task``."""
        ack = await self.send({"t": "heartbeat", "task": task, **_given(lease=lease)})
        return _record(ack, "task")

    async def complete(self, task: str, result: Any = None) -> Json:
        """Ends this agent's ``task`` as done, with ``result`` (left out when None)."""
        ack = await self.send({"t": "complete", "task": task, **_given(result=result)})
        return _record(ack, "task")

    async def fail(self, task: str, error: str) -> Json:
        """Ends this agent's ``task`` as failed."""
        return _record(await self.send({"t": "fail", "task": task, "error": error}), "task")

    async def approval(
        self,
        prompt: str,
        deadline: str | float,
        options: list[str] | None = None,
        on_deadline: str | None = None,
        data: Any = None,
    ) -> Json:
        """Asks a person to choose before ``deadline`` (``"30m"`` or an ISO time)."""
        fields = _given(options=options, onDeadline=on_deadline, data=data)
        ack = await self.send({"t": "approval", "prompt": prompt, "deadline": deadline, **fields})
        approval = _record(ack, "approval")
        self._note_approval(approval)
        return approval

    async def decide(self, approval: str, option: str, comment: str | None = None) -> Json:
        """Decides a pending approval, as this agent."""
        fields = _given(comment=comment)
        ack = await self.send({"t": "decide", "approval": approval, "option": option, **fields})
        return _record(ack, "approval")

    async def wait_for_decision(self, approval: str) -> Json:
        """Waits until ``approval`` is decided or expired, across reconnections, and returns it."""
        known = self.approvals.get(approval)
        if known is not None and known["status"] != "pending":
            return known
        if self._closed is not None:
            raise self._closed
        waiter: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._decisions.setdefault(approval, []).append(waiter)
        return await waiter

    async def send(self, frame: Json, id: str | None = None) -> Json:
        """Sends a command frame (``{"t": ...}``) and waits for its ack, ``{version, result?}``.

        The command keeps its id (a new one unless given) until it is answered,
        and is resent with it on every reconnection; the server applies it once.
        """
        if self._closed is not None:
            raise self._closed
        cid = id or str(uuid.uuid4())
        text = json.dumps({**frame, "id": cid})
        ack: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (text, ack)
        if self._outbox is not None:
            self._outbox.put_nowait(text)
        return await ack

    # ---- the connection ---------------------------------------------------------------------

    def _connect_url(self) -> str:
        query = {"agent": self.agent_name}
        if self.seq > 0:
            query["since"] = str(self.seq)
        return f"{self._url}?{urlencode(query)}"

    async def _run(self) -> None:
        attempt = 0
        protocols = [f"bearer.{self._token}"] if self._token else None
        while self._closed is None:
            welcomed = False
            try:
                async with websockets.connect(  # type: ignore[attr-defined]  # a lazy export
                    self._connect_url(),
                    subprotocols=protocols,
                    open_timeout=10,
                    max_size=None,  # a welcome carries the whole snapshot
                ) as ws:
                    welcomed = await self._serve(ws)
                    log.info("disconnected (%s)", ws.close_code)
                    if ws.close_code == GONE:
                        self._stop(DenizenError("not_found", ws.close_reason or "Session is gone"))
            except (OSError, asyncio.TimeoutError, WebSocketException) as e:
                status = _handshake_status(e)
                if status in FATAL_STATUS:
                    self._stop(DenizenError("refused", f"Server answered {status}"))
                else:
                    log.info("connection lost: %s", e or type(e).__name__)
            finally:
                self._outbox = None
                self._welcomed.clear()
            if self._closed is not None:
                return
            attempt = 1 if welcomed else attempt + 1
            ceiling = min(self._max_delay, self._initial_delay * 2 ** (attempt - 1))
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)

    async def _serve(self, ws: Any) -> bool:
        """Reads frames until the socket closes; True when the server welcomed this connection."""
        sender: asyncio.Task[None] | None = None
        try:
            async for text in ws:
                try:
                    data = json.loads(text)
                except ValueError:
                    log.warning("the server sent a frame that is not JSON")
                    continue
                for frame in data if isinstance(data, list) else [data]:
                    if frame.get("t") == "welcome":
                        self._outbox = asyncio.Queue()
                        sender = asyncio.create_task(_write(ws, self._outbox))
                    if not self._handle(frame):
                        await ws.close(GAP, "Event gap")
                        return sender is not None
        except ConnectionClosed:
            pass
        finally:
            if sender is not None:
                sender.cancel()
        return sender is not None

    def _handle(self, f: Json) -> bool:
        """Handles one server frame; False when an event leaves a gap (reconnect and replay)."""
        t = f.get("t")
        if t == "welcome":
            self._welcome(f)
        elif t == "event":
            if f["seq"] <= self.seq:
                return True
            if f["seq"] != self.seq + 1:
                return False
            self.seq = f["seq"]
            data = f.get("data")
            if isinstance(data, dict) and isinstance(data.get("approval"), dict):
                self._note_approval(data["approval"])
            if self._on_event is not None:
                self._on_event(f)
        elif t == "ack":
            self._settle(f.get("id"), f, None)
        elif t == "error":
            error = DenizenError(f["code"], f["message"])
            if not self._settle(f.get("id"), None, error):
                log.warning("server error: %s", error)
        elif t == "presence":
            self.presence = f["agents"]
        elif t == "ping" and self._outbox is not None:
            self._outbox.put_nowait(json.dumps({"t": "ping"}))
        return True

    def _welcome(self, f: Json) -> None:
        if self._welcomes > 0:
            self.reconnects += 1
            how = f"replayed {f['replayed']}" if "replayed" in f else "snapshot"
            log.info("reconnected at seq %d (%s)", f["seq"], how)
        self._welcomes += 1
        self.seq = f["seq"]
        self.session = f["session"]
        if "replayed" not in f:  # a snapshot: its records replace what was known
            self.coordination = f.get("coordination") or {}
            self.approvals = {}
            for approval in self.coordination.get("approvals", {}).values():
                self._note_approval(approval)
        assert self._outbox is not None
        for text, _ in self._pending.values():  # resent in their order, with their ids
            self._outbox.put_nowait(text)
        self._welcomed.set()

    def _settle(self, cid: str | None, ack: Json | None, error: DenizenError | None) -> bool:
        entry = self._pending.pop(cid, None) if cid is not None else None
        if entry is None:
            return False
        future = entry[1]
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(ack or {})
        return True

    def _note_approval(self, approval: Json) -> None:
        self.approvals[approval["id"]] = approval
        if approval["status"] == "pending":
            return
        for waiter in self._decisions.pop(approval["id"], []):
            if not waiter.done():
                waiter.set_result(approval)

    def _stop(self, error: DenizenError) -> None:
        if self._closed is not None:
            return
        self._closed = error
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for waiters in self._decisions.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
        self._decisions.clear()


async def _write(ws: Any, outbox: asyncio.Queue[str]) -> None:
    """Writes queued frames in order until the socket closes."""
    try:
        while True:
            await ws.send(await outbox.get())
    except ConnectionClosed:
        pass


def _given(**fields: Any) -> Json:
    """The fields that are not None: optional fields are left out of a frame."""
    return {k: v for k, v in fields.items() if v is not None}


def _record(ack: Json, name: str) -> Json:
    """The record an ack's result carries under ``name``."""
    record: Json = ack["result"][name]
    return record


def _handshake_status(e: BaseException) -> int | None:
    """The HTTP status of a refused upgrade, across websockets versions."""
    status = getattr(e, "status_code", None)  # websockets < 14: InvalidStatusCode
    response = getattr(e, "response", None)  # websockets >= 14: InvalidStatus
    return status if status is not None else getattr(response, "status_code", None)
