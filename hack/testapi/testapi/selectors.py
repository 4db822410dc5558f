"""Label and field selectors as the API server parses them (list/watch `labelSelector`, `fieldSelector`).

Label selector grammar (k8s.io/apimachinery/pkg/labels): comma-separated requirements
`key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`.
Field selectors support `=`, `==`, `!=` on the fields the real server indexes for our kinds.
"""
import re

FIELDS = {
    "metadata.name": lambda o: o.get("metadata", {}).get("name", ""),
    "metadata.namespace": lambda o: o.get("metadata", {}).get("namespace", ""),
    "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName", ""),
    "status.phase": lambda o: (o.get("status") or {}).get("phase", ""),
}


class SelectorError(ValueError):
    pass


def _split_terms(text):
    terms, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        terms.append(current.strip())
    return terms


_SET_TERM = re.compile(r"^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_CMP_TERM = re.compile(r"^([A-Za-z0-9./_-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)$")
_KEY = re.compile(r"^(!?)([A-Za-z0-9./_-]+)$")


def parse_labels(text):
    """Returns a predicate over a labels dict; raises SelectorError naming the bad term."""
    checks = []
    for term in _split_terms(text or ""):
        if m := _SET_TERM.match(term):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                checks.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                checks.append(lambda l, k=key, vs=values: l.get(k) not in vs)
        elif m := _CMP_TERM.match(term):
            key, op, value = m.groups()
            if op == "!=":
                checks.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                checks.append(lambda l, k=key, v=value: l.get(k) == v)
        elif m := _KEY.match(term):
            negate, key = m.groups()
            checks.append((lambda l, k=key: k not in l) if negate else (lambda l, k=key: k in l))
        else:
            raise SelectorError(f"unable to parse requirement: {term!r}")
    return lambda labels: all(check(labels or {}) for check in checks)


def parse_fields(text):
    """Returns a predicate over an object; raises SelectorError for unsupported field labels."""
    checks = []
    for term in _split_terms(text or ""):
        m = _CMP_TERM.match(term)
        if not m:
            raise SelectorError(f"invalid field selector term: {term!r}")
        field, op, value = m.groups()
        if field not in FIELDS:
            raise SelectorError(f'field label not supported: {field}')
        getter = FIELDS[field]
        if op == "!=":
            checks.append(lambda o, g=getter, v=value: g(o) != v)
        else:
            checks.append(lambda o, g=getter, v=value: g(o) == v)
    return lambda obj: all(check(obj) for check in checks)
