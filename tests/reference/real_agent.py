#!/usr/bin/env python3
"""Runs the real agent, z4j-bare 1.13.0, against a brain, with a minimal in-memory engine.

    .venv/bin/python tests/reference/real_agent.py BRAIN_URL TOKEN HMAC_SECRET

The engine reports EVENTS task events (default 5), one every 50 ms, and answers
`cancel_task` with success; the agent runs for SECONDS (default 6), then the process
exits 0. Everything else is the real agent's own code: hello, signed event batches,
verification of the brain's frames, command_ack and command_result. The agent keeps its
state under Z4J_HOME (set it to a fresh directory).
"""

import asyncio
import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from z4j_bare.install import install_agent
from z4j_core.models import CommandResult, Event
from z4j_core.models.event import EventKind

EVENTS = int(os.environ.get("EVENTS", "5"))


class InMemoryEngine:
    """The smallest queue engine the agent accepts: events out, cancel_task in."""

    name = "inmemory"
    protocol_version = "2"

    async def discover_tasks(self, hints=None):
        return []

    async def subscribe_registry_changes(self):
        return
        yield

    async def subscribe_events(self):
        for i in range(EVENTS):
            await asyncio.sleep(0.05)
            yield Event(
                id=uuid.uuid4(), project_id=uuid.UUID(int=0), agent_id=uuid.UUID(int=0), engine=self.name,
                task_id=f"real-agent-task-{i}", kind=EventKind.TASK_SUCCEEDED, occurred_at=datetime.now(UTC),
                data={"name": "app.tasks.add", "runtime": 0.25},
            )
        await asyncio.Event().wait()

    async def list_queues(self):
        return []

    async def list_workers(self):
        return []

    async def get_task(self, task_id):
        return None

    async def reconcile_task(self, task_id):
        return CommandResult(status="failed", error="not supported by the in-memory engine")

    async def submit_task(self, *args, **kwargs):
        return CommandResult(status="failed", error="not supported by the in-memory engine")

    async def retry_task(self, *args, **kwargs):
        return CommandResult(status="failed", error="not supported by the in-memory engine")

    async def cancel_task(self, task_id):
        return CommandResult(status="success", result={"cancelled": task_id})

    def capabilities(self):
        # The agent's dispatcher runs only actions the adapter advertises.
        return {"cancel_task"}


def main():
    logging.basicConfig(level=os.environ.get("LOG", "WARNING"))
    install_agent(
        engines=[InMemoryEngine()], brain_url=sys.argv[1], token=sys.argv[2], project_id="default",
        hmac_secret=sys.argv[3], dev_mode=True, autostart=True,
    )
    time.sleep(float(os.environ.get("SECONDS", "6")))
    print("real agent: done", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
