#!/usr/bin/env python3
"""Watch teammates' Teams presence the plain way: the yardstick for
`presently watch`.

    bench/script-watch.py --url http://127.0.0.1:8400 --ids-file ids.txt
                          [--token TOKEN] [--interval 5] [--polls N]

What a user would write with Python's standard library and nothing else:
every interval it asks Microsoft Graph's getPresencesByUserId for the IDs in
batches of 650, one request after another (urllib), reads each answer with
json.loads, keeps the last presence of every ID in a dict, and prints one JSON
line per change, plus a snapshot line after the first poll:

    {"event":"snapshot","at":"...","presences":[{"id":...,"availability":...,...}]}
    {"event":"changed","id":...,"availability":...,"activity":...,"at":"..."}
    {"event":"status","state":"error","detail":"..."}

--url is the Graph endpoint (here the simulator, `presently sim`). Without
--token it asks the simulator's control API for one (POST /_sim/tokens, as
the simulator's first user). --polls 0 (the default) polls until interrupted.
"""

import argparse
import datetime
import json
import sys
import time
import urllib.error
import urllib.request

BATCH = 650
PRESENCE = "/v1.0/communications/getPresencesByUserId"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="Graph's base URL, e.g. the simulator's")
    p.add_argument("--token", help="access token (default: one from the simulator's /_sim/tokens)")
    p.add_argument("--ids-file", required=True, help="user IDs, one per line ('#' starts a comment)")
    p.add_argument("--interval", type=float, default=5, help="seconds between polls (default 5)")
    p.add_argument("--polls", type=int, default=0, help="stop after this many polls (0: never)")
    return p.parse_args()


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def emit(event):
    print(json.dumps(event), flush=True)


def post(url, body, token=None):
    headers = {"Content-Type": "application/json", "User-Agent": "script-watch.py"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def sim_token(url):
    with urllib.request.urlopen(url + "/_sim/users", timeout=30) as r:
        users = json.loads(r.read())
    tokens = post(url + "/_sim/tokens", {"user": users[0]["id"], "scopes": "Presence.Read.All User.Read"})
    return tokens["access_token"]


def read_ids(path):
    with open(path) as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return [line for line in lines if line]


def poll(url, token, ids):
    """Every presence of `ids`, in batches of 650, one request at a time."""
    presences = []
    for start in range(0, len(ids), BATCH):
        answer = post(url + PRESENCE, {"ids": ids[start:start + BATCH]}, token)
        presences.extend(answer["value"])
    return presences


def main():
    args = parse_args()
    url = args.url.rstrip("/")
    ids = read_ids(args.ids_file)
    token = args.token or sim_token(url)
    last = {}  # id -> the last presence Graph gave for it
    polls = 0
    next_poll = time.monotonic()
    try:
        while args.polls == 0 or polls < args.polls:
            try:
                presences = poll(url, token, ids)
            except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
                emit({"event": "status", "state": "error", "detail": str(e), "at": now()})
                presences = None
            polls += 1
            if presences is not None:
                at = now()
                if not last:
                    last = {p["id"]: p for p in presences}
                    emit({"event": "snapshot", "at": at, "presences": list(last.values())})
                else:
                    for p in presences:
                        before = last.get(p["id"])
                        if before is None or (before["availability"], before["activity"]) != (p["availability"], p["activity"]):
                            emit({"event": "changed", "id": p["id"], "availability": p["availability"],
                                  "activity": p["activity"], "at": at})
                        last[p["id"]] = p
            if polls == args.polls:
                break
            # Polls start every interval (a slow poll shortens the wait, never below zero).
            next_poll += args.interval
            time.sleep(max(0.0, next_poll - time.monotonic()))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
