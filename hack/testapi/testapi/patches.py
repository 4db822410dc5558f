"""Patch semantics: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and server-side apply.

Server-side apply follows the Kubernetes "Server-Side Apply" documentation (field management, conflicts, merge
strategy): every field set by an apply is owned by its field manager; lists marked `x-kubernetes-list-type: map`
(here `LIST_MAPS`, keyed by the listed fields) are merged entry by entry, each entry owned separately; an apply
removes only the fields its manager owned before and no longer sets (and nobody else owns); setting a field another
manager owns to a different value is a conflict (409) unless `force=true`, which transfers ownership.
Non-apply writes (update, patch) take ownership of the fields they change, without conflicts.
"""
import copy
import json

# (field path) -> key fields of list-map entries (`x-kubernetes-list-type: map`, `x-kubernetes-list-map-keys`).
LIST_MAPS = {
    ("status", "nodes"): ("name",),
    ("status", "conditions"): ("type",),
    ("spec", "containers"): ("name",),
    ("spec", "ports"): ("port", "protocol"),
}
# Fields identifying the object rather than describing it: never owned, never removed by apply.
IDENTITY = {("apiVersion",), ("kind",)}
SERVER_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                   "managedFields", "deletionTimestamp"}

MISSING = object()


class PatchError(ValueError):
    """A malformed patch (400 BadRequest) or a failed JSON-patch `test` (422 Invalid)."""

    def __init__(self, message, code=400):
        super().__init__(message)
        self.code = code


class ApplyConflict(Exception):
    def __init__(self, conflicts):
        super().__init__("conflict")
        self.conflicts = conflicts  # [(manager, field path string)]


# --- JSON merge patch ------------------------------------------------------------------------------------------

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- JSON patch ------------------------------------------------------------------------------------------------

def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, tokens, path):
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise PatchError(f"path {path!r} does not exist")
    return node


def _get(doc, path):
    tokens = _pointer(path)
    node = doc
    try:
        for token in tokens:
            node = node[int(token)] if isinstance(node, list) else node[token]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"path {path!r} does not exist")
    return node


def _add(doc, path, value):
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if index > len(parent):
            raise PatchError(f"index out of range in {path!r}")
        parent.insert(index, value)
    else:
        parent[last] = value
    return doc


def _remove(doc, path):
    tokens = _pointer(path)
    parent, last = _parent(doc, tokens, path), tokens[-1]
    try:
        if isinstance(parent, list):
            return parent.pop(int(last))
        return parent.pop(last)
    except (KeyError, IndexError, ValueError):
        raise PatchError(f"path {path!r} does not exist")


def json_patch(doc, operations):
    if not isinstance(operations, list):
        raise PatchError("JSON patch must be an array of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        kind, path = op.get("op"), op.get("path")
        if path is None:
            raise PatchError("JSON patch operation without a path")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            value = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"test operation failed at {path!r}", code=422)
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


# --- server-side apply: field sets -----------------------------------------------------------------------------

def _entry_key(item, keys, where):
    if not isinstance(item, dict) or any(k not in item for k in keys):
        raise PatchError(f"{where}: list-map entries need key fields {list(keys)}")
    return tuple((k, item[k]) for k in keys)


def field_set(obj, root_filter=None):
    """Paths of the leaves and list-map entries of `obj`. A path is a tuple of ("f", name) and ("k", key) steps."""
    paths = set()

    def walk(value, path, schema):
        if isinstance(value, dict):
            if not value and path:
                paths.add(path)
            for name, sub in value.items():
                if not path and root_filter and not root_filter(name):
                    continue
                if schema == ("metadata",) and name in SERVER_METADATA:
                    continue
                if (name,) in IDENTITY and not path:
                    continue
                walk(sub, path + (("f", name),), schema + (name,))
        elif isinstance(value, list) and schema in LIST_MAPS:
            for item in value:
                entry = path + (("k", _entry_key(item, LIST_MAPS[schema], ".".join(schema))),)
                paths.add(entry)
                for name, sub in item.items():
                    walk(sub, entry + (("f", name),), schema + (name,))
        else:
            paths.add(path)

    walk(obj, (), ())
    return paths


def get_path(obj, path):
    node = obj
    for kind, step in path:
        if kind == "f":
            if not isinstance(node, dict) or step not in node:
                return MISSING
            node = node[step]
        else:
            if not isinstance(node, list):
                return MISSING
            node = next((i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in step)), MISSING)
            if node is MISSING:
                return MISSING
    return node


def _delete_path(obj, path):
    parent = get_path(obj, path[:-1])
    kind, step = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(step, None)
    elif kind == "k" and isinstance(parent, list):
        parent[:] = [i for i in parent if not all(i.get(k) == v for k, v in step)]


def describe(path):
    """`.status.nodes[name="a"].ready`, the notation the API server uses in conflict messages."""
    out = ""
    for kind, step in path:
        out += f".{step}" if kind == "f" else "[" + ",".join(f'{k}={json.dumps(v)}' for k, v in step) + "]"
    return out


def _merge(live, applied, schema):
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for name, value in applied.items():
            out[name] = _merge(live[name], value, schema + (name,)) if name in live else copy.deepcopy(value)
        return out
    if isinstance(live, list) and isinstance(applied, list) and schema in LIST_MAPS:
        keys = LIST_MAPS[schema]
        out = [copy.deepcopy(i) for i in live]
        for item in applied:
            key = _entry_key(item, keys, ".".join(schema))
            index = next((n for n, i in enumerate(out) if all(i.get(k) == v for k, v in key)), None)
            if index is None:
                out.append(copy.deepcopy(item))
            else:
                out[index] = _merge(out[index], item, schema)
        return out
    return copy.deepcopy(applied)


def apply(live, applied, owners, manager, force, root_filter=None):
    """Server-side apply of `applied` by `manager` onto `live`.

    `owners` maps a manager entry (manager, subresource, operation) to its set of owned paths; `manager` is such an
    entry with operation "Apply". Returns (new object, new owners). Raises ApplyConflict.
    """
    applied_fields = field_set(applied, root_filter)
    conflicts, taken = [], {}
    for other, fields in owners.items():
        if other == manager:
            continue
        for path in applied_fields & fields:
            if path[-1][0] == "k":
                continue  # sharing an entry's existence is not a conflict; its fields are checked one by one
            if get_path(live, path) != get_path(applied, path):
                conflicts.append((other[0], describe(path)))
                taken.setdefault(other, set()).add(path)
    if conflicts and not force:
        raise ApplyConflict(sorted(conflicts))
    new_owners = {m: set(f) - taken.get(m, set()) for m, f in owners.items()}
    filtered = {k: v for k, v in applied.items() if not root_filter or root_filter(k)}
    result = _merge(live, filtered, ())
    previously = owners.get(manager, set())
    others = set().union(*(f for m, f in new_owners.items() if m != manager)) if new_owners else set()
    dropped = previously - applied_fields
    # Whole entries first (an entry goes only when nobody else owns anything inside it), then single fields; the
    # key fields of an entry that stays are never removed.
    for path in sorted(dropped, key=lambda p: (p[-1][0] != "k", len(p))):
        if path in others:
            continue
        if path[-1][0] == "k" and any(o[:len(path)] == path for o in others):
            continue
        if len(path) > 1 and path[-2][0] == "k" and path[-1][1] in dict(path[-2][1]):
            continue
        _delete_path(result, path)
    new_owners[manager] = applied_fields
    return result, {m: f for m, f in new_owners.items() if f}


def record_update(old, new, owners, manager, root_filter=None):
    """Ownership after a non-apply write by `manager`: it takes the fields it changed from everyone."""
    new_fields = field_set(new, root_filter)
    changed = {p for p in new_fields if get_path(old, p) != get_path(new, p)}
    removed = field_set(old, root_filter) - new_fields
    result = {m: f - changed - removed for m, f in owners.items()}
    if changed:
        result[manager] = result.get(manager, set()) | changed
    return {m: f for m, f in result.items() if f}


def managed_fields(owners, api_version, times):
    """Renders ownership as `metadata.managedFields` (FieldsV1)."""
    out = []
    for (manager, subresource, operation), fields in sorted(owners.items()):
        tree = {}
        for path in fields:
            node = tree
            for kind, step in path:
                name = f"f:{step}" if kind == "f" else "k:" + json.dumps(dict(step), separators=(",", ":"))
                node = node.setdefault(name, {})
                if kind == "k":
                    node.setdefault(".", {})
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version,
                 "time": times.get((manager, subresource, operation), ""), "fieldsType": "FieldsV1",
                 "fieldsV1": tree}
        if subresource:
            entry["subresource"] = subresource
        out.append(entry)
    return out
