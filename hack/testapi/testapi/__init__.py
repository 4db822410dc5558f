"""Test API server for Bulwark's Kubernetes client tests: HTTPS, Kubernetes REST semantics, fault-injection hooks.

Modules: certs (per-run PKI), selectors (label/field selectors), patches (merge/JSON patch, server-side apply),
store (objects, resourceVersions, history), server (HTTP routing, auth, watch). Entry point: `python3 -m testapi`.
"""
