"""Fan-out of live messages to subscribers, per patient, without ever blocking ingest."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

__all__ = ["Hub", "Subscription"]


class Subscription:
    """One subscriber's bounded queue of JSON texts.

    When the queue is full the oldest message is dropped (a live view prefers fresh data);
    after ``max_drops`` drops in a row the subscriber is marked :attr:`kicked` and the reader
    should disconnect it.
    """

    def __init__(self, patient_id: int, maxsize: int, max_drops: int) -> None:
        self.patient_id = patient_id
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize)
        self.max_drops = max_drops
        self.dropped = 0
        self._run = 0
        self.kicked = False

    def offer(self, text: str) -> None:
        if self.kicked:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            self._run += 1
            if self._run > self.max_drops:
                self.kicked = True
                self.queue.put_nowait(None)  # wakes the reader, which closes
                return
        else:
            self._run = 0
        self.queue.put_nowait(text)

    async def get(self) -> str | None:
        """Next message; None once the subscriber was kicked."""
        if self.kicked:
            return None
        return await self.queue.get()


class Hub:
    """Per-patient sets of :class:`Subscription` s."""

    def __init__(self, maxsize: int = 1024, max_drops: int = 4096) -> None:
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self.maxsize = maxsize
        self.max_drops = max_drops
        self.n_published = 0

    def subscribe(self, patient_id: int) -> Subscription:
        sub = Subscription(patient_id, self.maxsize, self.max_drops)
        self._subs[patient_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.patient_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.patient_id]

    def has_subscribers(self, patient_id: int) -> bool:
        return patient_id in self._subs

    def n_subscribers(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def publish(self, patient_id: int, message: dict[str, Any]) -> None:
        """Queue ``message`` (JSON-serialised once) for every subscriber of the patient."""
        subs = self._subs.get(patient_id)
        if not subs:
            return
        text = json.dumps(message, allow_nan=False)
        self.n_published += 1
        for s in tuple(subs):
            s.offer(text)

    def close_all(self) -> None:
        for subs in self._subs.values():
            for s in subs:
                s.kicked = True
                if s.queue.full():
                    s.queue.get_nowait()
                s.queue.put_nowait(None)
        self._subs.clear()
