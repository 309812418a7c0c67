"""Asks the bot one question over Matrix, as a member would.

Logs in USER, creates a private room, invites BOT, waits for the bot to join,
sends QUESTION and waits for a message from the bot that contains EXPECTED.
Exits 0 when it comes, 1 after a timeout. Standard library only.

Usage: python3 matrix_ask.py HOMESERVER USER PASSWORD BOT QUESTION EXPECTED
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

homeserver, user, password, bot, question, expected = sys.argv[1:7]
TIMEOUT = 90


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(homeserver + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}")


login = call(
    "POST",
    "/_matrix/client/v3/login",
    {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password},
)
token = login["access_token"]
room = call(
    "POST",
    "/_matrix/client/v3/createRoom",
    {"preset": "private_chat", "invite": [bot], "name": "kotae container test"},
    token,
)["room_id"]
quoted = urllib.parse.quote(room)
started = time.monotonic()
while bot not in call("GET", f"/_matrix/client/v3/rooms/{quoted}/joined_members", token=token)["joined"]:
    if time.monotonic() - started > TIMEOUT:
        raise SystemExit(f"{bot} did not join {room} in {TIMEOUT} s")
    time.sleep(0.3)
print(f"{bot} joined {room} after {time.monotonic() - started:.1f} s")

asked = time.monotonic()
call(
    "PUT",
    f"/_matrix/client/v3/rooms/{quoted}/send/m.room.message/q{int(asked * 1000)}",
    {"msgtype": "m.text", "body": question},
    token,
)
since = None
while time.monotonic() - asked < TIMEOUT:
    params = {"timeout": "5000", "filter": json.dumps({"room": {"rooms": [room]}})}
    if since:
        params["since"] = since
    sync = call("GET", "/_matrix/client/v3/sync?" + urllib.parse.urlencode(params), token=token)
    since = sync["next_batch"]
    events = sync.get("rooms", {}).get("join", {}).get(room, {}).get("timeline", {}).get("events", [])
    for event in events:
        body = event.get("content", {}).get("body", "")
        if event.get("sender") == bot and event.get("type") == "m.room.message":
            if expected in body:
                print(f"answered in {time.monotonic() - asked:.1f} s: {body[:200]!r}")
                sys.exit(0)
            print(f"(bot said: {body[:200]!r})")
sys.exit(f"no answer containing {expected!r} from {bot} in {TIMEOUT} s")
