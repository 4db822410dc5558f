#!/usr/bin/env python3
"""Agent benchmark driver (used by hack/bench-agent; needs root).

Starts the repo's test API server, fills it with NAMESPACES namespaces, PODS pods spread over NODES nodes and
POLICIES BulwarkPolicies, starts `bulwark agent` for node-0 (whose pods get real veth interfaces), and measures:
  cold start   agent start -> /readyz 200 (initial lists, compile, first program)
  status       agent start -> every policy's status written (this node's entry and the leader's summary)
  latency      policy spec change -> this node's status entry reports the new generation (watch delivery,
               incremental compile, datapath diff and write, status apply), p50/p99 over CHANGES changes, measured
               in steady state (after the start-up status writes)
  memory       agent VmRSS after the run
"""
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

# Scale; BENCH_SCALE=0.1 gives a quick smoke run.
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
PODS, POLICIES, NODES, NAMESPACES, CHANGES = int(10_000 * SCALE), int(1_000 * SCALE), 100, 100, 200


def main(bulwark, repo):
    work = tempfile.mkdtemp(prefix="bulwark-bench-agent-")
    server = subprocess.Popen([sys.executable, "-m", "testapi", "--dir", work + "/pki"], cwd=repo + "/hack/testapi",
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = json.loads(server.stdout.readline())["port"]
    base = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=work + "/pki/ca.crt")
    context.load_cert_chain(work + "/pki/client.crt", work + "/pki/client.key")

    def call(method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, context=context) as response:
            return json.loads(response.read())

    local_pods = [i for i in range(PODS) if i % NODES == 0]
    interfaces = {i: f"bwb{n}" for n, i in enumerate(local_pods)}
    for name in interfaces.values():
        subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"], check=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
    agent = None
    try:
        started = time.monotonic()

        def bulk(plural, items, group=""):
            server.stdin.write(json.dumps({"cmd": "bulk", "group": group, "plural": plural, "items": items}) + "\n")
            server.stdin.flush()
            reply = json.loads(server.stdout.readline())
            if not reply.get("ok"):
                raise SystemExit(f"filling the test API server failed: {reply}")

        def pod(i):
            namespace = f"ns-{i % NAMESPACES}"
            meta = {"name": f"pod-{i}", "namespace": namespace,
                    "labels": {"app": f"app-{i % 50}", "tier": f"tier-{i % 5}"}}
            if i in interfaces:
                meta["annotations"] = {"bulwark.dev/interface": interfaces[i]}
            return {"metadata": meta, "spec": {"nodeName": f"node-{i % NODES}", "containers": [{"name": "c"}]},
                    "status": {"phase": "Running", "podIP": f"10.200.{i // 250}.{i % 250 + 1}"}}

        # Filled through the server's control channel (not HTTP): the figures are about the agent, not the fill.
        # bulwark-system: where the agent's leader-election Lease lives, as in a real install.
        bulk("namespaces", [{"metadata": {"name": f"ns-{n}", "labels": {"team": f"t{n % 10}"}}}
                            for n in range(NAMESPACES)] + [{"metadata": {"name": "bulwark-system"}}])
        bulk("pods", [pod(i) for i in range(PODS)])
        bulk("bulwarkpolicies", [policy(i, f"ns-{i % NAMESPACES}", 80) for i in range(POLICIES)], "bulwark.dev")
        print(f"cluster: {PODS} pods, {POLICIES} BulwarkPolicies, {NAMESPACES} namespaces, {NODES} nodes "
              f"({len(local_pods)} pods on the agent's node); filled in {time.monotonic() - started:.1f} s")

        kubeconfig = write_kubeconfig(work, base)
        agent_port = 19808
        started = time.monotonic()
        # BENCH_AGENT_WRAPPER: a command prefix for profiling, e.g. "heaptrack -o /tmp/agent" (Debian package heaptrack;
        # valgrind cannot run the agent) with a dynamically linked build.
        wrapper = os.environ.get("BENCH_AGENT_WRAPPER", "").split()
        agent = subprocess.Popen(wrapper + [bulwark, "agent", "--kubeconfig", kubeconfig, "--node-name", "node-0",
                                  "--bpf-root", f"/sys/fs/bpf/bulwark-bench-{os.getpid()}", "--state-dir",
                                  work + "/state", "--bind-address", f"127.0.0.1:{agent_port}",
                                  "--log-level", os.environ.get("BENCH_LOG_LEVEL", "warning")], stderr=open(work + "/agent.log", "w"),
                                 start_new_session=True)
        while not ready(agent_port):
            if agent.poll() is not None:
                raise SystemExit("agent exited")
            time.sleep(0.01)
        cold = time.monotonic() - started
        print(f"cold start to ready: {cold * 1000:.0f} ms")

        # Policies in ns-0 select the agent's node's pods (all local pods live in ns-0).
        local_policies = [i for i in range(POLICIES) if i % NAMESPACES == 0]
        settled = wait_for_settled_status(call, timeout=120)
        print(f"status of all {POLICIES} policies written (node entry and leader summary): "
              f"{(settled - started) * 1000:.0f} ms after start")
        latencies = []
        for change in range(CHANGES):
            i = local_policies[change % len(local_policies)]
            path = f"/apis/bulwark.dev/v1alpha1/namespaces/ns-0/bulwarkpolicies/policy-{i}"
            before = call("GET", path)["metadata"]["generation"]
            started = time.monotonic()
            call("PATCH", path, {"spec": policy(i, "ns-0", 1000 + change)["spec"]}, "application/merge-patch+json")
            wait_for_generation(call, i, before + 1, timeout=10)
            latencies.append(time.monotonic() - started)
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        print(f"policy change -> programmed (status reports it): p50 {p50:.1f} ms, p99 {p99:.1f} ms "
              f"over {CHANGES} changes; slowest: {', '.join(f'{t * 1000:.0f}' for t in latencies[-5:])} ms")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{agent_port}/metrics", timeout=5).read().decode()
        values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.splitlines()
                  if line.startswith("bulwark_reconcile_duration_seconds_sum")
                  or line.startswith("bulwark_reconcile_duration_seconds_count")}
        mean = values["bulwark_reconcile_duration_seconds_sum"] / values["bulwark_reconcile_duration_seconds_count"]
        print(f"reconcile (compile, resolve, program) mean: {mean * 1000:.1f} ms over "
              f"{values['bulwark_reconcile_duration_seconds_count']:.0f} reconciles")
        status = {line.split(":")[0]: int(line.split()[1]) for line in open(f"/proc/{agent.pid}/status")
                  if line.startswith(("VmRSS", "RssAnon", "RssFile"))}
        print(f"agent resident memory: {status['VmRSS'] / 1024:.1f} MiB (heap and other anonymous "
              f"{status['RssAnon'] / 1024:.1f} MiB, mapped files such as shared libraries {status['RssFile'] / 1024:.1f} MiB)")
        for name, kib in largest_mappings(agent.pid, 6):
            print(f"  {kib / 1024:5.1f} MiB  {name}")
        if os.environ.get("BENCH_LOG_LEVEL"):
            subprocess.run(["cp", work + "/agent.log", "/tmp/bench-agent-agent.log"])
    except SystemExit:
        sys.stderr.write("agent log (last lines):\n" + "".join(open(work + "/agent.log").readlines()[-20:]))
        raise
    finally:
        if agent is not None:
            os.killpg(agent.pid, signal.SIGTERM)  # the group: a profiler wrapper's child is the agent itself
            agent.wait()
            subprocess.run([bulwark, "cleanup", "--bpf-root", f"/sys/fs/bpf/bulwark-bench-{os.getpid()}"],
                           stdout=subprocess.DEVNULL)
        for name in interfaces.values():
            subprocess.run(["ip", "link", "del", name], stderr=subprocess.DEVNULL)
        server.terminate()
        subprocess.run(["rm", "-rf", work])


def policy(i, namespace, port):
    return {"apiVersion": "bulwark.dev/v1alpha1", "kind": "BulwarkPolicy",
            "metadata": {"name": f"policy-{i}", "namespace": namespace},
            "spec": {"podSelector": {"matchLabels": {"app": f"app-{i % 50}"}},
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": f"t{i % 10}"}},
                                            "podSelector": {"matchLabels": {"tier": f"tier-{i % 5}"}}}],
                                  "ports": [{"protocol": "TCP", "port": port}]}]}}


def largest_mappings(pid, count):
    """Resident KiB per mapped object (file path, or [heap]/[anon]), largest first: where the footprint lives."""
    sizes, name = {}, None
    for line in open(f"/proc/{pid}/smaps"):
        fields = line.split()
        if not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else "[anon]"
        elif fields[0] == "Rss:":
            sizes[name] = sizes.get(name, 0) + int(fields[1])
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def wait_for_generation(call, i, generation, timeout):
    path = f"/apis/bulwark.dev/v1alpha1/namespaces/ns-0/bulwarkpolicies/policy-{i}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = call("GET", path).get("status", {}).get("nodes", [])
        if any(n["name"] == "node-0" and n.get("observedGeneration", 0) >= generation for n in nodes):
            return
        time.sleep(0.002)
    raise SystemExit(f"policy-{i} generation {generation} not reported within {timeout} s")


def wait_for_settled_status(call, timeout):
    """Steady state: every policy carries this node's entry and the leader's summary (Programmed) for its
    generation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = call("GET", "/apis/bulwark.dev/v1alpha1/bulwarkpolicies")["items"]
        if all(settled(item) for item in items):
            return time.monotonic()
        time.sleep(0.1)
    raise SystemExit(f"policy status not complete within {timeout} s")


def settled(item):
    generation = item["metadata"]["generation"]
    status = item.get("status", {})
    programmed = any(c["type"] == "Programmed" and c["status"] == "True" for c in status.get("conditions", []))
    return programmed and status.get("observedGeneration") == generation and any(
        n["name"] == "node-0" and n.get("observedGeneration") == generation for n in status.get("nodes", []))


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def write_kubeconfig(work, server):
    import base64
    data = {name: base64.b64encode(open(f"{work}/pki/{name}", "rb").read()).decode()
            for name in ("ca.crt", "client.crt", "client.key")}
    path = work + "/kubeconfig"
    with open(path, "w") as out:
        out.write(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "bench",
            "clusters": [{"name": "bench", "cluster": {"server": server,
                                                      "certificate-authority-data": data["ca.crt"]}}],
            "users": [{"name": "bench", "user": {"client-certificate-data": data["client.crt"],
                                                "client-key-data": data["client.key"]}}],
            "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}]}))
    return path


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
