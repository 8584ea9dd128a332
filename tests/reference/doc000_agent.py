"""A legacy v1 agent written from document 000 alone, with no brainwire code: the check
that a brain built on brainwire takes what the document describes.

    doc000_agent.py URL TOKEN EVENTS

Connects to URL (`wss://<brain>/ws`) with `Authorization: Bearer TOKEN`, sends `hello`
(`protocol: "v1"`), a `schedule_snapshot`, then EVENTS task events in `event_batch`es
numbered by a monotonic `seq`, waits for an `ack` of each, answers every `command` with a
`command_result`, and prints one JSON line: acked seqs, commands answered, close code.
"""

import asyncio
import datetime
import json
import sys
import uuid

import websockets


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


async def main(url, token, events):
    acked, commands = set(), []
    batches = [list(range(i, min(i + 50, events))) for i in range(0, events, 50)]
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(json.dumps({
            "type": "hello", "protocol": "v1", "agent_name": "doc000-agent",
            "framework": "bare", "framework_version": "1.0", "engines": ["celery"],
            "schedulers": ["celery-beat"], "capabilities": {},
            "metadata": {"hostname": "localhost", "pid": 4242, "python": "3"},
        }))
        await ws.send(json.dumps({
            "type": "schedule_snapshot", "scheduler": "celery-beat",
            "schedules": [{"id": "every-minute", "task": "app.tick", "interval": 60}],
        }))
        await ws.send(json.dumps({"type": "heartbeat", "ts": now()}))
        for seq, batch in enumerate(batches, start=1):
            await ws.send(json.dumps({"type": "event_batch", "seq": seq, "events": [{
                "event_type": "task_succeeded", "task_id": f"doc000-{uuid.uuid4()}",
                "engine": "celery", "ts": now(), "name": "app.add",
                "args_redacted": [i, i + 1], "kwargs_redacted": {}, "queue": "default",
            } for i in batch]}))
        while len(acked) < len(batches):
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame["type"] == "ack":
                acked.add(frame["seq"])
            elif frame["type"] == "command":
                commands.append(frame["cmd"])
                await ws.send(json.dumps({
                    "type": "command_result", "cmd_id": frame["cmd_id"], "ok": True,
                    "result": {"handled": frame["cmd"]},
                }))
        # A command may still come (the brain sends one after the first batch).
        try:
            while not commands:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["type"] == "command":
                    commands.append(frame["cmd"])
                    await ws.send(json.dumps({
                        "type": "command_result", "cmd_id": frame["cmd_id"], "ok": True,
                    }))
        except asyncio.TimeoutError:
            pass
        await ws.send(json.dumps({"type": "schedule_update", "scheduler": "celery-beat",
                                  "removed": ["every-minute"]}))
        await asyncio.sleep(0.2)
    print(json.dumps({"acked": sorted(acked), "commands": commands, "close_code": ws.close_code}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
