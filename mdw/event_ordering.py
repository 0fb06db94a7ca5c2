"""The Prefect server's causal ordering of events for its triggers, without a 15-minute wait
after a restart. The server loads it through its `server.events.causal_ordering` setting
(PREFECT_SERVER_EVENTS_CAUSAL_ORDERING, set by mdw.services.server_environment).

Prefect links a run's state event to the previous one (`follows`) when the two are less than
5 minutes apart, and its trigger service holds back an event until it has seen the event it
follows - for up to 15 minutes (PRECEDING_EVENT_LOOKBACK) - remembering the events it has seen
in memory only. After a restart of the server (`mdw up`, or the supervisor after a crash) the
next state of every run in flight (e.g. the Crashed of a run whose process died with the
stack) follows an event the new process has never seen and never will: its alert came 15
minutes late, and never if the server restarted again meanwhile (issue 20, defect 4).

So an event whose leader was emitted before this server process started is evaluated at once
(event ids are UUIDv7: their first 48 bits are the time). Every other event waits for its
leader as Prefect's own in-memory ordering (which this extends, pinned with prefect 3.8.8)
makes it.
"""

from __future__ import annotations

import os
from uuid import UUID

import psutil
from prefect.server.events.ordering import memory
from prefect.server.events.schemas.events import ReceivedEvent

STARTED = psutil.Process(os.getpid()).create_time()  # this server process's start (epoch s)


def emitted_before_start(event_id: UUID) -> bool:
    return event_id.version == 7 and (event_id.int >> 80) / 1000 < STARTED


class CausalOrdering(memory.CausalOrdering):
    async def wait_for_leader(self, event: ReceivedEvent) -> None:
        if event.follows and emitted_before_start(event.follows):
            return  # a previous server process's event: nobody will ever deliver it here
        await super().wait_for_leader(event)
