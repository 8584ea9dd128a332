#!/usr/bin/env python3
"""Runs the real brain, z4j 1.13.0 from PyPI, on loopback for the end-to-end test.

    .venv/bin/python tests/reference/real_brain.py [--agents N --token-file FILE]

Starts `z4j serve` in a fresh Z4J_HOME on a free port (SQLite, dev environment, an admin
bootstrapped from the environment), logs in once, mints an agent in the `default`
project, and prints one JSON line: {"url", "token", "hmac_secret", "agent_id"}. With
`--agents N` it mints N agents (the line names the first) and writes every token to
FILE, one per line; they share the project's secret. Then it
reads commands on stdin, one JSON answer line each:

- `cancel <engine> <task_id>`: issues cancel-task through the REST API -> {"id", "status"}
- `command <id>`: the command's state -> {"status", "result", "error"}
- `events <engine> <task_id>`: the stored events of a task -> {"kinds": [...]}
- `stop`, or the end of stdin: stops the brain and exits.
"""

import argparse
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

EMAIL = "admin@brainwire.test"
PASSWORD = "Brainwire-e2e-Passw0rd!"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1)
    parser.add_argument("--token-file")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="z4j-home-")
    port = free_port()
    env = dict(os.environ, Z4J_HOME=home, Z4J_ENVIRONMENT="dev",
               Z4J_BOOTSTRAP_ADMIN_EMAIL=EMAIL, Z4J_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD)
    z4j = os.path.join(os.path.dirname(sys.executable), "z4j")
    log = open(os.path.join(home, "serve.log"), "wb")
    server = subprocess.Popen([z4j, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(method, path, body=None):
        headers = {"content-type": "application/json"}
        csrf = next((c.value for c in jar if c.name == "z4j_csrf"), None)
        if csrf:
            headers["X-CSRF-Token"] = csrf
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    try:
        for _ in range(120):
            try:
                if call("GET", "/health").get("status") == "ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit("z4j did not become healthy; see " + log.name)
        call("POST", "/auth/login", {"email": EMAIL, "password": PASSWORD})
        minted = call("POST", "/projects/default/agents", {"name": "brainwire-e2e"})
        tokens = [minted["token"]]
        for i in range(1, args.agents):
            more = call("POST", "/projects/default/agents", {"name": f"brainwire-e2e-{i}"})
            if more["hmac_secret"] != minted["hmac_secret"]:
                raise SystemExit("agents of one project were minted with different secrets")
            tokens.append(more["token"])
        if args.token_file:
            fd = os.open(args.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write("".join(token + "\n" for token in tokens))
        print(json.dumps({"url": f"ws://127.0.0.1:{port}/ws/agent", "token": minted["token"],
                          "hmac_secret": minted["hmac_secret"], "agent_id": minted["agent"]["id"]}), flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "stop":
                break
            try:
                if words[0] == "cancel":
                    issued = call("POST", "/projects/default/commands/cancel-task",
                                  {"agent_id": minted["agent"]["id"], "engine": words[1], "task_id": words[2]})
                    answer = {"id": issued["id"], "status": issued["status"]}
                elif words[0] == "events":
                    page = call("GET", f"/projects/default/events?engine={words[1]}&task_id={words[2]}")
                    answer = {"kinds": [item["kind"] for item in page["items"]]}
                elif words[0] == "command":
                    state = call("GET", f"/projects/default/commands/{words[1]}")
                    answer = {k: state.get(k) for k in ("status", "result", "error")}
                else:
                    answer = {"error": f"unknown request {words[0]!r}"}
            except urllib.error.HTTPError as exc:
                answer = {"error": f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"}
            print(json.dumps(answer), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
