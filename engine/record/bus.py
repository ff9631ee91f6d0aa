"""The event bus: record every event in the store, then hand it to subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from engine.record.store import Store
from engine.views.events import Event, OutputChunk


class Subscription:
    """An unbounded queue of events for one subscriber, optionally for one task."""

    def __init__(self, bus: EventBus, task_id: str | None) -> None:
        self._bus = bus
        self.task_id = task_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue()

    def wants(self, event: Event) -> bool:
        return self.task_id is None or event.task_id == self.task_id

    def close(self) -> None:
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventBus:
    """Writes each event to the store before any subscriber sees it.

    Command output is already on disk in its log file, so OutputChunk is not stored again.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._subscriptions: list[Subscription] = []

    def subscribe(self, task_id: str | None = None) -> Subscription:
        subscription = Subscription(self, task_id)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def emit(self, event: Event) -> None:
        if not isinstance(event, OutputChunk):
            self._store.record_event(event)
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.queue.put_nowait(event)
