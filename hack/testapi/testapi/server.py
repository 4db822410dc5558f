"""HTTPS front end: routing of Kubernetes REST paths, authentication, watch streaming, fault injection.

Kubernetes API conventions implemented here (api-conventions.md and api-concepts.md):
- REST paths `/api/v1/...` and `/apis/GROUP/VERSION/...`, namespaced and cluster scope, the `status` subresource.
- Authentication: bearer tokens and client certificates (CN is the user, O the groups); 401 Unauthorized without a
  valid credential, 403 Forbidden when the user may not perform the verb ("Response Status Kind").
- Watch ("Efficient detection of changes"): chunked newline-delimited JSON events ADDED / MODIFIED / DELETED /
  BOOKMARK / ERROR; `resourceVersion` to resume, `allowWatchBookmarks` ("Watch bookmarks"), `timeoutSeconds`;
  a resourceVersion older than the compaction point yields an ERROR event with a 410 Expired Status.
- 429 TooManyRequests with a `Retry-After` header and `details.retryAfterSeconds` ("HTTP Status codes").
"""
import bisect
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import patches, selectors
from .store import ApiError, Resource, RESOURCES


class Settings:
    """Mutable server behaviour, changed by the control channel (see __main__)."""

    def __init__(self, tokens):
        self.lock = threading.Lock()
        self.tokens = dict(tokens)        # token -> user
        self.readonly_users = set()
        self.bookmark_interval = 1.0
        self.injected = []                # [(code, retryAfter)] answered to the next requests, in order
        self.requests = []                # recent requests: method, path, query, content type, user
        self.watch_chunk_size = 0         # >0: write watch events in pieces of this many bytes


def _route(path):
    """(Resource, namespace, name, subresource) for a REST path, or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
        if not any(g == group and RESOURCES[(g, p)][0] == parts[2] for g, p in RESOURCES):
            return None
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces" and (group, rest[2]) in RESOURCES:
        ns, rest = rest[1], rest[2:]
    if not rest or (group, rest[0]) not in RESOURCES or len(rest) > 3:
        return None
    res = Resource(group, rest[0])
    if res.namespaced != (ns is not None) and len(rest) > 1:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    if sub not in ("", "status") or (sub == "status" and not res.has_status):
        return None
    return res, ns, name, sub


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bulwark-testapi"

    def log_message(self, *args):
        pass

    def setup(self):
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.request.close()
            raise
        self.server.track(self.request, True)
        super().setup()

    def finish(self):
        self.server.track(self.request, False)
        try:
            super().finish()
        except OSError:
            pass

    # --- plumbing ------------------------------------------------------------------------------------------

    def _send_json(self, code, body, headers=None):
        self._send_raw(code, json.dumps(body, separators=(",", ":")).encode(), headers)

    def _send_raw(self, code, data, headers=None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, error):
        self._send_json(error.code, error.status(), error.headers)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {e}")

    def _user(self):
        settings = self.server.settings
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            with settings.lock:
                user = settings.tokens.get(auth[7:].strip())
            if user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            return user
        cert = self.request.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        return value
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def _handle(self, method):
        settings = self.server.settings
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            body = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else None
            if url.path in ("/healthz", "/readyz", "/livez"):
                data = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(data)
                return
            user = self._user()
            with settings.lock:
                settings.requests.append({"method": method, "path": url.path, "query": query, "user": user,
                                          "peerPort": self.client_address[1],
                                          "contentType": self.headers.get("Content-Type", ""),
                                          "userAgent": self.headers.get("User-Agent", ""),
                                          "at": time.monotonic()})
                del settings.requests[:-500]
                injected = settings.injected.pop(0) if settings.injected else None
            if injected:
                code, retry_after = injected
                if code == 429:
                    raise ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                                   {"retryAfterSeconds": retry_after}, {"Retry-After": str(retry_after)})
                raise ApiError(code, "InternalError" if code == 500 else "ServiceUnavailable",
                               f"Internal error occurred: injected failure {code}", {"causes": [
                                   {"message": "injected failure"}]})
            if url.path == "/version":
                return self._send_json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-bulwark-test"})
            route = _route(url.path)
            if route is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._dispatch(method, user, query, body, *route)
        except ApiError as error:
            self._send_error(error)
        except patches.PatchError as error:
            reason = "Invalid" if error.code == 422 else "BadRequest"
            self._send_error(ApiError(error.code, reason, str(error)))
        except selectors.SelectorError as error:
            self._send_error(ApiError(400, "BadRequest", str(error)))

    def _authorize(self, user, verb, res, ns, name):
        with self.server.settings.lock:
            readonly = user in self.server.settings.readonly_users
        if readonly and verb not in ("get", "list", "watch"):
            scope = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            raise ApiError(403, "Forbidden", f'{res.plural}{"." + res.group if res.group else ""} "{name or ""}" '
                           f'is forbidden: User "{user}" cannot {verb} resource "{res.plural}" in API group '
                           f'"{res.group}"{scope}', {"name": name or "", "group": res.group, "kind": res.plural})

    def _dispatch(self, method, user, query, body, res, ns, name, sub):
        store = self.server.store
        manager = query.get("fieldManager", "")
        if name is None:
            if method == "GET":
                labels = selectors.parse_labels(query.get("labelSelector"))
                fields = selectors.parse_fields(query.get("fieldSelector"))
                if query.get("watch") in ("true", "1"):
                    self._authorize(user, "watch", res, ns, None)
                    return self._watch(res, ns, labels, fields, query)
                self._authorize(user, "list", res, ns, None)
                limit = int(query.get("limit") or 0)
                return self._send_raw(200, store.list(res, ns, labels, fields, limit, query.get("continue")))
            if method == "POST":
                self._authorize(user, "create", res, ns, (body or {}).get("metadata", {}).get("name"))
                return self._send_json(201, store.create(res, ns, body, manager or user))
            raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                           f"resource")
        if method == "GET":
            self._authorize(user, "get", res, ns, name)
            return self._send_json(200, store.get(res, ns, name))
        verb = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb is None:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        self._authorize(user, verb, res, ns, name)
        if method == "PUT":
            return self._send_json(200, store.update(res, ns, name, body, sub, manager or user))
        if method == "DELETE":
            return self._send_json(200, store.delete(res, ns, name, (body or {}).get("preconditions")))
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type == "application/apply-patch+yaml" and not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "apply configurations must be objects (this test server accepts "
                           "the JSON form of YAML only)")
        force = query.get("force") in ("true", "1")
        result = store.patch(res, ns, name, content_type, body, sub, manager or user, force)
        return self._send_json(200, result)

    # --- watch ---------------------------------------------------------------------------------------------

    def _write_chunk(self, data):
        size = self.server.settings.watch_chunk_size
        pieces = [data[i:i + size] for i in range(0, len(data), size)] if size else [data]
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()

    def _event(self, kind, obj):
        self._write_chunk(json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n")

    def _watch(self, res, ns, labels, fields, query):
        store, settings = self.server.store, self.server.settings
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        # This server closes the connection when a watch ends; saying so keeps the client from reusing it for its
        # next request (a 30 s stall once blamed on that race came from the test process, see hack/test).
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        matches = lambda o: o is not None and (ns is None or o["metadata"].get("namespace") == ns) \
            and labels(o["metadata"].get("labels")) and fields(o)
        rv_text = query.get("resourceVersion", "")
        with store.lock:
            epoch = store.watch_epoch
            if rv_text in ("", "0"):
                last = store.rv
                initial = [store._render(res, k, o) for k, o in sorted(store.objects.items())
                           if k[0] == res.group and k[1] == res.plural]
            else:
                last, initial = int(rv_text), []
                if last < store.compacted:
                    expired = ApiError(410, "Expired", f"too old resource version: {last} ({store.compacted})")
                    initial = None
        if initial is None:
            self._event("ERROR", expired.status())
            return self._write_chunk(b"")
        for obj in initial:
            if matches(obj):
                self._event("ADDED", obj)
        next_bookmark = time.monotonic() + settings.bookmark_interval
        while not self.server.stopping:
            with store.lock:
                store.lock.wait_for(lambda: self.server.stopping or store.watch_epoch != epoch or (
                    not store.hold and store.history and store.history[-1][0] > last),
                    timeout=max(0.0, min(deadline, next_bookmark) - time.monotonic()))
                if store.watch_epoch != epoch or (last < store.compacted and not store.hold):
                    pending = None
                elif store.hold:
                    pending = []
                else:
                    start = bisect.bisect_right(store.history, last, key=lambda h: h[0])
                    pending = [h for h in store.history[start:] if h[2] == (res.group, res.plural)]
                    last = store.rv
                current = store.rv
            if pending is None:
                error = ApiError(410, "Expired", f"too old resource version: {last} ({current})")
                self._event("ERROR", error.status())
                break
            for rv, kind, _, obj, previous in pending:
                now, before = matches(obj), matches(previous)
                if kind == "MODIFIED" and now != before:
                    kind = "ADDED" if now else "DELETED"
                if now or before:
                    self._event(kind, obj)
            now = time.monotonic()
            if now >= deadline:
                break
            if bookmarks and now >= next_bookmark and not store.hold:
                self._event("BOOKMARK", {"kind": res.kind, "apiVersion": res.api_version,
                                         "metadata": {"resourceVersion": str(current)}})
            if now >= next_bookmark:
                next_bookmark = now + settings.bookmark_interval
        if not self.server.stopping:
            self._write_chunk(b"")

    do_GET = lambda self: self._handle("GET")
    do_POST = lambda self: self._handle("POST")
    do_PUT = lambda self: self._handle("PUT")
    do_PATCH = lambda self: self._handle("PATCH")
    do_DELETE = lambda self: self._handle("DELETE")


class APIServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, context, store, settings):
        self.context, self.store, self.settings = context, store, settings
        self.stopping = False
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def track(self, sock, add):
        with self.connections_lock:
            (self.connections.add if add else self.connections.discard)(sock)

    def handle_error(self, request, client_address):
        pass  # clients that hang up or fail TLS are normal in tests

    def stop(self):
        """Closes the listener and every open connection, like a crashed API server."""
        self.stopping = True
        with self.store.lock:
            self.store.lock.notify_all()
        self.shutdown()
        self.server_close()
        with self.connections_lock:
            for sock in list(self.connections):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def tls_context(directory):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/server.crt", f"{directory}/server.key")
    context.load_verify_locations(f"{directory}/ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context
