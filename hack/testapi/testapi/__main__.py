"""Test API server entry point: `python3 -m testapi --dir DIR [--port N] [--token TOKEN=USER ...]`.

Prints one JSON line `{"ready": true, "port": N}` on stdout once it serves HTTPS, then reads control commands, one JSON
object per line on stdin, and answers each with one JSON line on stdout. It exits when stdin closes, so a test
process that dies takes its server with it.

Commands ({"cmd": ...}):
  tokens {"tokens": {TOKEN: USER}}          replace the accepted bearer tokens
  readonly {"users": [USER]}                 these users get 403 Forbidden on writes
  inject {"code": 429|500|503, "count": N, "retryAfter": S}   answer the next N API requests with that error
  compact                                    forget history: older resourceVersions answer 410 Expired
  expireWatches                              end every open watch with an ERROR 410 event
  hold {"hold": bool}                        stop/resume delivering events to open watches
  down {"seconds": S}                        stop listening and drop all connections; come back after S seconds
  bookmarks {"interval": S}                  bookmark period of watches that allow them
  chunking {"size": N}                       write watch events in N-byte chunks (0: one chunk per event)
  requests                                   recent requests (method, path, query, contentType, user, peerPort)
  bulk {"group", "plural", "namespace", "template", "count"}   create many objects quickly (benchmarks)
  bulk {"group", "plural", "items"}                            create these objects as given, status included
"""
import argparse
import json
import sys
import threading
import time

from . import certs
from .server import APIServer, Settings, tls_context
from .store import Resource, Store


class Runner:
    def __init__(self, directory, port, tokens):
        self.directory, self.port = directory, port
        self.store, self.settings = Store(), Settings(tokens)
        self.server = None
        self.start()

    def start(self):
        self.server = APIServer(self.port, tls_context(self.directory), self.store, self.settings)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def down(self, seconds):
        self.server.stop()

        def restart():
            time.sleep(seconds)
            self.start()

        threading.Thread(target=restart, daemon=True).start()

    def command(self, cmd):
        name, settings = cmd.get("cmd"), self.settings
        if name == "tokens":
            with settings.lock:
                settings.tokens = dict(cmd["tokens"])
        elif name == "readonly":
            with settings.lock:
                settings.readonly_users = set(cmd["users"])
        elif name == "inject":
            with settings.lock:
                settings.injected += [(int(cmd["code"]), int(cmd.get("retryAfter", 1)))] * int(cmd.get("count", 1))
        elif name == "compact":
            return {"resourceVersion": str(self.store.compact())}
        elif name == "expireWatches":
            self.store.expire_watches()
        elif name == "hold":
            self.store.set_hold(bool(cmd["hold"]))
        elif name == "down":
            self.down(float(cmd["seconds"]))
        elif name == "bookmarks":
            settings.bookmark_interval = float(cmd["interval"])
        elif name == "chunking":
            settings.watch_chunk_size = int(cmd["size"])
        elif name == "requests":
            with settings.lock:
                return {"requests": list(settings.requests)}
        elif name == "bulk":
            res = Resource(cmd.get("group", ""), cmd["plural"])
            if "items" in cmd:
                rv = self.store.bulk_create_items(res, cmd["items"])
            else:
                rv = self.store.bulk_create(res, cmd.get("namespace"), cmd["template"], int(cmd["count"]))
            return {"resourceVersion": str(rv)}
        else:
            raise ValueError(f"unknown command {name!r}")
        return {}


def main():
    parser = argparse.ArgumentParser(prog="testapi")
    parser.add_argument("--dir", required=True, help="directory for the PKI (created if missing)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", default=[], help="TOKEN=USER accepted as bearer token")
    args = parser.parse_args()
    certs.ensure(args.dir)
    tokens = dict(t.split("=", 1) for t in args.token)
    runner = Runner(args.dir, args.port, tokens)
    print(json.dumps({"ready": True, "port": runner.port}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, **runner.command(json.loads(line))}
        except Exception as error:  # the control channel reports every failure to the test
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
