#!/usr/bin/env python3
"""Runs the real agent, z4j-bare 1.13.0 with the huey adapter (z4j-huey 1.13.0, huey
3.5.4), against a brain.

    .venv/bin/python tests/reference/real_agent.py BRAIN_URL TOKEN HMAC_SECRET

Huey needs no server: a SqliteHuey in a temporary directory and a threaded consumer in
this process. Once the agent is installed, it enqueues EVENTS_OK (default 4) successful
tasks, one task that fails, and one that fails once and succeeds on its retry, lets the
agent run for SECONDS (default 6), then exits 0. Everything on the wire is the real
agent's own code: hello, signed heartbeats, agent_status and event batches, verification
of the brain's frames, command_ack and command_result. The agent keeps its state under
Z4J_HOME (set it to a fresh directory).
"""

import logging
import os
import sys
import tempfile
import time

from huey import SqliteHuey
from z4j_bare.install import install_agent
from z4j_huey import HueyEngineAdapter

EVENTS_OK = int(os.environ.get("EVENTS_OK", "4"))

huey = SqliteHuey(filename=os.path.join(tempfile.mkdtemp(prefix="huey-"), "huey.db"))
flaky_attempts = []


@huey.task()
def add(a, b):
    return a + b


@huey.task()
def explode():
    raise ValueError("this task always fails")


@huey.task(retries=1, retry_delay=0)
def flaky():
    flaky_attempts.append(1)
    if len(flaky_attempts) == 1:
        raise RuntimeError("first attempt fails")
    return "second attempt succeeds"


def main():
    logging.basicConfig(level=os.environ.get("LOG", "WARNING"))
    install_agent(
        engines=[HueyEngineAdapter(huey=huey)], brain_url=sys.argv[1], token=sys.argv[2], project_id="default",
        hmac_secret=sys.argv[3], agent_name="brainwire-e2e-huey", dev_mode=True, autostart=True,
    )
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    time.sleep(1)
    for i in range(EVENTS_OK):
        add(i, i)
    explode()
    flaky()
    time.sleep(float(os.environ.get("SECONDS", "6")))
    consumer.stop(graceful=False)
    print("real agent: done", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
