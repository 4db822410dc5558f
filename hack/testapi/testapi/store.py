"""The object store: resourceVersions, generations, optimistic concurrency, status isolation, watch history.

Kubernetes API conventions implemented here (community/contributors/devel/sig-architecture/api-conventions.md):
- "Concurrency Control and Consistency": one resourceVersion counter for the whole store, increasing on every write;
  an update carrying a stale metadata.resourceVersion fails with 409 Conflict.
- "Metadata": metadata.generation starts at 1 and increases only when the desired state (anything but metadata and
  status) changes; uid and creationTimestamp are set by the server.
- "Spec and Status": for kinds with a status subresource, writes to the main resource ignore status and writes to
  /status ignore everything but status.
- "Response Status Kind": every failure is a `Status` object with code, reason, message and details (causes).
- "Resource Versions" / "Efficient detection of changes" (api-concepts.md): list returns the store's
  resourceVersion; watch from a resourceVersion replays later events; resourceVersions older than the compaction
  point answer 410 Gone (reason Expired); paging with limit/continue, continue tokens expire with compaction.
"""
import base64
import bisect
import copy
import json
import re
import threading
import time
import uuid

from . import patches

# plural -> (group, version, kind, namespaced, has status subresource)
RESOURCES = {
    ("", "pods"): ("v1", "Pod", True, True),
    ("", "namespaces"): ("v1", "Namespace", False, True),
    ("", "services"): ("v1", "Service", True, True),
    ("", "configmaps"): ("v1", "ConfigMap", True, False),
    ("networking.k8s.io", "networkpolicies"): ("v1", "NetworkPolicy", True, False),
    ("bulwark.dev", "bulwarkpolicies"): ("v1alpha1", "BulwarkPolicy", True, True),
    ("discovery.k8s.io", "endpointslices"): ("v1", "EndpointSlice", True, False),
    ("coordination.k8s.io", "leases"): ("v1", "Lease", True, False),
    ("events.k8s.io", "events"): ("v1", "Event", True, False),
}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HISTORY_LIMIT = 200_000


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details or {}, headers or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def now_rfc3339(micro=False):
    t = time.time()
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return base + (".%06dZ" % int((t % 1) * 1e6) if micro else "Z")


class Resource:
    def __init__(self, group, plural):
        self.group, self.plural = group, plural
        self.version, self.kind, self.namespaced, self.has_status = RESOURCES[(group, plural)]
        self.api_version = f"{group}/{self.version}" if group else self.version

    def not_found(self, name):
        return ApiError(404, "NotFound", f'{self.plural}{"." + self.group if self.group else ""} "{name}" not found',
                        {"name": name, "group": self.group, "kind": self.plural})

    def conflict(self, name, why="the object has been modified; please apply your changes to the latest version "
                                 "and try again"):
        return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {self.plural} "{name}": {why}',
                        {"name": name, "group": self.group, "kind": self.plural})


class Store:
    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 0
        self.compacted = 0
        self.objects = {}   # (group, plural, namespace, name) -> object dict
        self.owners = {}    # same key -> {(manager, subresource, operation): set(paths)}
        self.times = {}     # same key -> {(manager, subresource, operation): time}
        self.history = []   # (rv, type, (group, plural), object, previous object)
        self.encoded = {}   # same key -> the object's JSON, ready for list responses
        self.sorted_keys = {}  # (group, plural) -> sorted [(namespace, name)], so a page costs O(limit log n)
        self.watch_epoch = 0
        self.hold = False
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(Resource("", "namespaces"), None, {"metadata": {"name": ns}}, "kube-apiserver")

    # --- reads ---------------------------------------------------------------------------------------------

    def get(self, res, ns, name):
        with self.lock:
            obj = self.objects.get((res.group, res.plural, ns or "", name))
            if obj is None:
                raise res.not_found(name)
            return self._render(res, (res.group, res.plural, ns or "", name), obj)

    def list(self, res, ns, label_match, field_match, limit, token):
        """The list response body (JSON bytes; objects are pre-encoded at write time)."""
        with self.lock:
            list_rv, start = self.rv, None
            if token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                    list_rv, start = int(decoded["rv"]), tuple(decoded["start"])
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "continue key is not valid")
                if list_rv < self.compacted:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue parameter.")
            names = self.sorted_keys.get((res.group, res.plural), [])
            if start is not None:
                first = bisect.bisect_right(names, start)
            elif ns is not None:
                first = bisect.bisect_left(names, (ns, ""))
            else:
                first = 0
            items, last, next_token = [], None, None
            for position in range(first, len(names)):
                if ns is not None and names[position][0] != ns:
                    if names[position][0] > ns:
                        break
                    continue
                key = (res.group, res.plural) + names[position]
                obj = self.objects[key]
                if not label_match(obj["metadata"].get("labels")) or not field_match(obj):
                    continue
                if limit and len(items) == limit:
                    cont = {"rv": list_rv, "start": list(last)}
                    next_token = base64.urlsafe_b64encode(json.dumps(cont).encode()).decode()
                    break
                items.append(self.encoded[key])
                last = key[2:]
            meta = {"resourceVersion": str(list_rv)}
            if next_token:
                meta["continue"] = next_token
            head = json.dumps({"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": meta},
                              separators=(",", ":")).encode()
            return head[:-1] + b',"items":[' + b",".join(items) + b"]}"

    def _render(self, res, key, obj, with_kind=True):
        out = dict(obj)
        out["metadata"] = dict(obj["metadata"])
        owners = self.owners.get(key)
        if owners:
            out["metadata"]["managedFields"] = patches.managed_fields(owners, res.api_version, self.times[key])
        if not with_kind:
            out.pop("kind", None)
            out.pop("apiVersion", None)
        return out

    # --- writes --------------------------------------------------------------------------------------------

    def _commit(self, res, key, event, obj, previous):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        if event == "DELETED":
            self.objects.pop(key, None)
            self.owners.pop(key, None)
            self.times.pop(key, None)
            self.encoded.pop(key, None)
            names = self.sorted_keys[key[:2]]
            del names[bisect.bisect_left(names, key[2:])]
        else:
            if key not in self.objects:
                bisect.insort(self.sorted_keys.setdefault(key[:2], []), key[2:])
            self.objects[key] = obj
        rendered = self._render(res, key, obj)
        if event != "DELETED":
            self.encoded[key] = json.dumps(rendered, separators=(",", ":")).encode()
        self.history.append((self.rv, event, (res.group, res.plural), rendered, previous))
        if len(self.history) > HISTORY_LIMIT:
            self.compacted = self.history[len(self.history) // 2][0]
            self.history = [h for h in self.history if h[0] > self.compacted]
        self.lock.notify_all()
        return self._render(res, key, obj)

    def _check_identity(self, res, ns, obj, name=None):
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise ApiError(400, "BadRequest", "the body must be an object with metadata")
        meta = obj["metadata"]
        if name is not None and meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", f'the name of the object ({meta.get("name")}) does not match the '
                           f"name on the URL ({name})")
        if res.namespaced and meta.get("namespace", ns) != ns:
            raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                           "sent on the request")
        for field, expected in (("kind", res.kind), ("apiVersion", res.api_version)):
            if field in obj and obj[field] != expected:
                raise ApiError(400, "BadRequest", f"{field} {obj[field]!r} does not match {expected!r}")

    def _validate_name(self, res, name):
        if not name:
            cause = {"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                     "field": "metadata.name"}
        elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
            cause = {"reason": "FieldValueInvalid", "field": "metadata.name",
                     "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                                "case alphanumeric characters, '-' or '.', and must start and end with an "
                                "alphanumeric character"}
        else:
            return
        raise ApiError(422, "Invalid", f'{res.kind} "{name}" is invalid: {cause["field"]}: {cause["message"]}',
                       {"name": name, "group": res.group, "kind": res.kind, "causes": [cause]})

    def _prepare_new(self, res, ns, obj):
        """Validates a new object and fills in server-set metadata; does not store it."""
        self._check_identity(res, ns, obj)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        self._validate_name(res, meta.get("name"))
        if res.namespaced and ("", "namespaces", "", ns) not in self.objects:
            raise Resource("", "namespaces").not_found(ns)
        key = (res.group, res.plural, ns or "", meta["name"])
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", f'{res.plural} "{meta["name"]}" already exists',
                           {"name": meta["name"], "group": res.group, "kind": res.plural})
        new = copy.deepcopy(obj)
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        for field in patches.SERVER_METADATA - {"name", "namespace"}:
            new["metadata"].pop(field, None)
        if res.namespaced:
            new["metadata"]["namespace"] = ns
        new["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        if res.has_status and res.plural != "namespaces":
            new.pop("status", None)
        return key, new

    def create(self, res, ns, obj, manager):
        with self.lock:
            key, new = self._prepare_new(res, ns, obj)
            self._own_update(res, key, {}, new, manager, "")
            return self._commit(res, key, "ADDED", new, None)

    def _own_update(self, res, key, old, new, manager, subresource):
        entry = (manager, subresource, "Update")
        owners = patches.record_update(old, new, self.owners.get(key, {}), entry)
        self.owners[key] = owners
        self.times.setdefault(key, {})[entry] = now_rfc3339()

    def _merge_isolated(self, res, old, proposed, subresource):
        """The stored object after a write to the main resource or /status, with generation bookkeeping."""
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in proposed:
                new["status"] = copy.deepcopy(proposed["status"])
            else:
                new.pop("status", None)
            return new
        new = copy.deepcopy(proposed)
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        meta = new.setdefault("metadata", {})
        for field in ("name", "namespace", "uid", "creationTimestamp", "generation"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
        meta.pop("managedFields", None)
        if res.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        spec = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status", "kind", "apiVersion")}
        if spec(old) != spec(new):
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        return new

    def update(self, res, ns, name, obj, subresource, manager):
        with self.lock:
            self._check_identity(res, ns, obj, name)
            key = (res.group, res.plural, ns or "", name)
            old = self.objects.get(key)
            if old is None:
                raise res.not_found(name)
            wanted = obj["metadata"].get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise res.conflict(name)
            new = self._merge_isolated(res, old, obj, subresource)
            self._own_update(res, key, old, new, manager, subresource)
            return self._commit(res, key, "MODIFIED", new, self._render(res, key, old))

    def patch(self, res, ns, name, content_type, body, subresource, manager, force):
        with self.lock:
            key = (res.group, res.plural, ns or "", name)
            old = self.objects.get(key)
            if content_type == "application/apply-patch+yaml":
                return self._apply(res, ns, name, key, old, body, subresource, manager, force)
            if old is None:
                raise res.not_found(name)
            current = self._render(res, key, old)
            current["metadata"].pop("managedFields", None)
            if content_type == "application/json-patch+json":
                proposed = patches.json_patch(current, body)
            elif content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                if content_type.startswith("application/strategic") and res.group not in ("", "networking.k8s.io"):
                    raise ApiError(415, "UnsupportedMediaType", "strategic merge patch is not supported for "
                                   f"custom resources ({res.plural}.{res.group})")
                proposed = patches.merge_patch(current, body)
            else:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                               f"accepted media types include: application/json-patch+json, "
                               f"application/merge-patch+json, application/apply-patch+yaml")
            self._check_identity(res, ns, proposed, name)
            wanted = proposed["metadata"].get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise res.conflict(name)
            new = self._merge_isolated(res, old, proposed, subresource)
            self._own_update(res, key, old, new, manager, subresource)
            return self._commit(res, key, "MODIFIED", new, current)

    def _apply(self, res, ns, name, key, old, body, subresource, manager, force):
        if not manager:
            raise ApiError(400, "BadRequest", "PATCH, application/apply-patch+yaml requests must have a "
                           "fieldManager")
        self._check_identity(res, ns, body, name)
        for field in ("apiVersion", "kind"):
            if field not in body:
                raise ApiError(400, "BadRequest", f"{field} must be set in an apply configuration")
        wanted = body["metadata"].get("resourceVersion")
        if old is None:
            if subresource:
                raise res.not_found(name)
            _, old = self._prepare_new(res, ns, {"metadata": {"name": name}})
            previous = None
        else:
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise res.conflict(name)
            previous = self._render(res, key, old)
        applied = copy.deepcopy(body)
        for field in patches.SERVER_METADATA - {"name", "namespace"}:
            applied["metadata"].pop(field, None)
        if subresource == "status":
            root = lambda k: k == "status"
        elif res.has_status:
            root = lambda k: k != "status"
        else:
            root = None
        entry = (manager, subresource, "Apply")
        try:
            merged, owners = patches.apply(old, applied, self.owners.get(key, {}), entry, force, root)
        except patches.ApplyConflict as conflict:
            causes = [{"reason": "FieldManagerConflict", "field": field,
                       "message": f'conflict with "{who}"' + (f' with subresource "{subresource}"'
                                                               if subresource else "")}
                      for who, field in conflict.conflicts]
            plural = "s" if len(causes) > 1 else ""
            text = "\n".join(f'* {c["message"]}: {c["field"]}' for c in causes)
            raise ApiError(409, "Conflict", f"Apply failed with {len(causes)} conflict{plural}: {text}",
                           {"name": name, "group": res.group, "kind": res.plural, "causes": causes})
        new = self._merge_isolated(res, old, merged, subresource)
        self.owners[key] = owners
        self.times.setdefault(key, {})[entry] = now_rfc3339()
        if previous is None:
            new["metadata"]["generation"] = 1
            return self._commit(res, key, "ADDED", new, None)
        if new == old:
            return self._render(res, key, old)  # a no-op apply does not bump resourceVersion
        return self._commit(res, key, "MODIFIED", new, previous)

    def delete(self, res, ns, name, preconditions):
        with self.lock:
            key = (res.group, res.plural, ns or "", name)
            old = self.objects.get(key)
            if old is None:
                raise res.not_found(name)
            wanted = (preconditions or {}).get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise res.conflict(name, "the ResourceVersion in the precondition does not match")
            if (preconditions or {}).get("uid") not in (None, old["metadata"]["uid"]):
                raise res.conflict(name, "the UID in the precondition does not match")
            previous = self._render(res, key, old)
            return self._commit(res, key, "DELETED", copy.deepcopy(old), previous)

    # --- test hooks ----------------------------------------------------------------------------------------

    def compact(self):
        with self.lock:
            self.compacted = self.rv
            self.history = []
            return self.rv

    def expire_watches(self):
        with self.lock:
            self.watch_epoch += 1
            self.lock.notify_all()

    def set_hold(self, hold):
        with self.lock:
            self.hold = hold
            self.lock.notify_all()

    def bulk_create(self, res, ns, template, count):
        """Fast path for benchmarks: `count` copies of `template` named `<name>-<n>`."""
        base = template["metadata"]["name"]
        items = []
        for n in range(count):
            obj = copy.deepcopy(template)
            obj["metadata"]["name"] = f"{base}-{n}"
            obj["metadata"].setdefault("namespace", ns)
            items.append(obj)
        return self.bulk_create_items(res, items)

    def bulk_create_items(self, res, items):
        """Fast path for benchmarks: creates `items` (each in its own metadata.namespace) as they are, status
        included, with no field ownership, so a benchmark can fill a large cluster in seconds."""
        with self.lock:
            for obj in items:
                ns = obj["metadata"].get("namespace") if res.namespaced else None
                status = obj.get("status")
                key, new = self._prepare_new(res, ns, obj)
                if status is not None and res.has_status:
                    new["status"] = copy.deepcopy(status)
                self._commit(res, key, "ADDED", new, None)
            return self.rv
