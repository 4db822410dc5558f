#!/usr/bin/env python3
"""Validates examples/ against the BulwarkPolicy CRD's openAPIV3Schema with a real JSON-Schema validator.

kubectl cannot validate a custom resource offline, so this converts the structural schema to JSON Schema the way the
API server reads it:
  * x-kubernetes-int-or-string: true -> anyOf integer/string (the schema already carries that anyOf);
  * objects with `properties` reject unknown fields (kubectl's default strict field validation);
  * x-kubernetes-validations (CEL) are evaluated by the Python equivalents below, keyed by the exact rule text, so a
    CEL rule added to the CRD without an equivalent here fails the check instead of being skipped.
It also checks the schema is structural (every node typed, no types inside anyOf except int-or-string).

Usage: check_examples.py [REPO_ROOT]. Prints one line per check; exit status 1 when any check fails.
"""
import copy
import glob
import os
import re
import sys

import jsonschema
import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")

PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

CEL = {
    "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : "
    "!has(self.values) || size(self.values) == 0":
        lambda s: len(s.get("values") or []) > 0 if s["operator"] in ("In", "NotIn")
        else len(s.get("values") or []) == 0 if "values" in s else True,
    "has(self.podSelector) || has(self.namespaceSelector) || has(self.ipBlock)":
        lambda s: any(k in s for k in ("podSelector", "namespaceSelector", "ipBlock")),
    "!has(self.ipBlock) || (!has(self.podSelector) && !has(self.namespaceSelector))":
        lambda s: "ipBlock" not in s or ("podSelector" not in s and "namespaceSelector" not in s),
    "type(self) == int ? self >= 1 && self <= 65535 : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && "
    "size(self) <= 15 && self.matches('[a-z]')":
        lambda s: 1 <= s <= 65535 if isinstance(s, int)
        else bool(PORT_NAME.match(s)) and len(s) <= 15 and re.search("[a-z]", s) is not None,
    "!has(self.endPort) || (has(self.port) && type(self.port) == int && self.endPort >= self.port)":
        lambda s: "endPort" not in s or (isinstance(s.get("port"), int) and s["endPort"] >= s["port"]),
    "!has(self.protocol) || !(self.protocol in ['ICMP', 'ICMPv6']) || (!has(self.port) && !has(self.endPort))":
        lambda s: s.get("protocol") not in ("ICMP", "ICMPv6") or ("port" not in s and "endPort" not in s),
}


def structural_problems(node, path="openAPIV3Schema"):
    problems = []
    if node.get("x-kubernetes-int-or-string"):
        if node.get("anyOf") != [{"type": "integer"}, {"type": "string"}] or "type" in node:
            problems.append(f"{path}: int-or-string must be untyped with anyOf integer/string")
    elif "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        problems.append(f"{path}: missing type")
    for key, child in node.get("properties", {}).items():
        problems += structural_problems(child, f"{path}.{key}")
    if "items" in node:
        problems += structural_problems(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        problems += structural_problems(node["additionalProperties"], f"{path}{{}}")
    for keyword in ("anyOf", "allOf", "oneOf"):
        for branch in node.get(keyword, []):
            if not node.get("x-kubernetes-int-or-string") and ("type" in branch or "properties" in branch):
                problems.append(f"{path}.{keyword}: types inside {keyword} are not structural")
    if node.get("x-kubernetes-list-type") == "map" and not node.get("x-kubernetes-list-map-keys"):
        problems.append(f"{path}: list-map without keys")
    return problems


def to_json_schema(node):
    node = copy.deepcopy(node)
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for key, child in node.get("properties", {}).items():
        node["properties"][key] = to_json_schema(child)
    if "items" in node:
        node["items"] = to_json_schema(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = to_json_schema(node["additionalProperties"])
    node.pop("x-kubernetes-int-or-string", None)
    return node


def cel_keyword(validator, rules, instance, schema):
    for rule in rules:
        check = CEL.get(rule["rule"])
        if check is None:
            yield jsonschema.ValidationError(f"no Python equivalent for CEL rule: {rule['rule']}")
            continue
        try:
            passed = check(instance)
        except (TypeError, KeyError):
            continue  # the API server runs CEL only on values of the declared type; the schema reports the rest
        if not passed:
            yield jsonschema.ValidationError(rule.get("message", rule["rule"]))


def metadata_schema(schema):
    # The API server validates metadata itself: name and namespace are required DNS labels/subdomains.
    schema["properties"]["metadata"] = {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}},
    }
    return schema


BAD = [
    ("missing spec", {}, "'spec' is a required property"),
    ("unknown field", {"spec": {"podSelector": {}, "podselector": {}}}, "Additional properties"),
    ("unknown mode", {"spec": {"podSelector": {}, "mode": "DryRun"}}, "'DryRun' is not one of"),
    ("unknown action", {"spec": {"podSelector": {}, "ingress": [{"action": "Drop"}]}}, "'Drop' is not one of"),
    ("unknown policy type", {"spec": {"podSelector": {}, "policyTypes": ["Both"]}}, "'Both' is not one of"),
    ("unknown protocol", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"protocol": "GRE"}]}]}},
     "'GRE' is not one of"),
    ("port 0", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]}},
     "must be a port number between 1 and 65535"),
    ("port 65536", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 65536}]}]}},
     "must be a port number between 1 and 65535"),
    ("bad port name", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "Web_1"}]}]}},
     "IANA service name"),
    ("port as a list", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": [80]}]}]}}, "is not valid under any"),
    ("endPort below port", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 81, "endPort": 80}]}]}},
     "endPort requires a numeric port"),
    ("endPort with named port",
     {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}},
     "endPort requires a numeric port"),
    ("endPort above range", {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 1, "endPort": 70000}]}]}},
     "70000 is greater than the maximum"),
    ("ICMP with port", {"spec": {"podSelector": {}, "egress": [{"ports": [{"protocol": "ICMP", "port": 8}]}]}},
     "must not be set for ICMP"),
    ("empty peer", {"spec": {"podSelector": {}, "ingress": [{"from": [{}]}]}}, "must specify a peer"),
    ("ipBlock with selector",
     {"spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}},
     "may not specify both"),
    ("cidr not a prefix", {"spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "example.com"}}]}]}},
     "does not match"),
    ("In without values",
     {"spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}}, "values must be non-empty"),
    ("Exists with values",
     {"spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["a"]}]}}},
     "values must be non-empty for In and NotIn, and empty"),
    ("bad operator",
     {"spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["a"]}]}}},
     "'Equals' is not one of"),
    ("status node without name", {"spec": {"podSelector": {}}, "status": {"nodes": [{"selectedPods": 1}]}},
     "'name' is a required property"),
    ("condition with bad status",
     {"spec": {"podSelector": {}}, "status": {"conditions": [
         {"type": "Accepted", "status": "Yes", "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "Valid",
          "message": ""}]}},
     "'Yes' is not one of"),
]


def main():
    with open(os.path.join(ROOT, "crds", "bulwarkpolicy.yaml")) as f:
        crd = yaml.safe_load(f)
    version = crd["spec"]["versions"][0]
    raw = version["schema"]["openAPIV3Schema"]
    failures = structural_problems(raw)
    for problem in failures:
        print(f"FAIL structural: {problem}")
    schema = metadata_schema(to_json_schema(raw))
    validator_class = jsonschema.validators.extend(
        jsonschema.Draft7Validator, {"x-kubernetes-validations": cel_keyword})
    validator = validator_class(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)

    examples = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "BulwarkPolicy":
                    continue
                examples += 1
                errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
                name = f"{os.path.basename(path)} {doc['metadata']['name']}"
                if errors:
                    failures.append(name)
                    print(f"FAIL example {name}: {errors}")
                else:
                    print(f"ok example {name}")
    if examples < 5:
        failures.append("examples")
        print(f"FAIL expected at least 5 BulwarkPolicy examples, found {examples}")

    for name, body, expected in BAD:
        doc = {"apiVersion": "bulwark.dev/v1alpha1", "kind": "BulwarkPolicy", "metadata": {"name": "bad"}, **body}
        messages = [e.message for e in validator.iter_errors(doc)]
        if any(expected in m for m in messages):
            print(f"ok rejects {name}")
        else:
            failures.append(name)
            print(f"FAIL {name}: expected an error containing {expected!r}, got {messages}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
