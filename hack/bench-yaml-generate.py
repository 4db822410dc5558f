#!/usr/bin/env python3
"""Writes a deterministic multi-document Kubernetes manifest stream of about N MB (used by hack/bench-yaml)."""
import random
import sys

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
    tier: "{tier}"
  annotations:
    deployment.kubernetes.io/revision: "{rev}"
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata:
      labels:
        app: {name}
        version: v{rev}
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.{rev}.{replicas}
          args: ["--port", "{port}", "--log-level", info]
          ports:
            - containerPort: {port}
              name: http
              protocol: TCP
          env:
            - name: ENABLE_TRACING
              value: "true"
            - name: CACHE_SIZE
              value: "{cache}"
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
            requests:
              cpu: 0.1
              memory: 64Mi
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            initialDelaySeconds: 5
            periodSeconds: 10
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
"""

NETWORK_POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}-ingress
  namespace: {ns}
spec:
  podSelector:
    matchLabels:
      app: {name}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - namespaceSelector:
            matchExpressions:
              - {{key: team, operator: In, values: [payments, checkout, "{ns}"]}}
          podSelector:
            matchLabels: {{role: frontend}}
        - ipBlock:
            cidr: 10.{a}.0.0/16
            except: [10.{a}.{b}.0/24]
      ports:
        - protocol: TCP
          port: {port}
        - protocol: TCP
          port: 32000
          endPort: 32768
  egress:
    - to:
        - ipBlock: {{cidr: 0.0.0.0/0}}
      ports:
        - {{protocol: UDP, port: 53}}
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}-{suffix}
  namespace: {ns}
  labels:
    app: {name}
    pod-template-hash: "{suffix}"
  ownerReferences:
    - apiVersion: apps/v1
      kind: ReplicaSet
      name: {name}-{suffix}
      uid: 4f1c{a:04d}-bb2e-4c1d-9a7e-{b:012d}
      controller: true
spec:
  nodeName: node-{b}
  containers:
    - name: {name}
      image: registry.example.com/{name}:1.{rev}.0
      ports:
        - containerPort: {port}
          protocol: TCP
status:
  phase: Running
  podIP: 10.{a}.{b}.{c}
  podIPs:
    - ip: 10.{a}.{b}.{c}
  conditions:
    - type: Ready
      status: "True"
      lastTransitionTime: "2024-05-0{c1}T10:00:00Z"
"""


def main() -> None:
    size_mb, path = float(sys.argv[1]), sys.argv[2]
    rng = random.Random(1)
    target = int(size_mb * 1_000_000)
    written = 0
    index = 0
    with open(path, "w") as out:
        while written < target:
            template = (DEPLOYMENT, NETWORK_POLICY, POD, POD)[index % 4]
            text = template.format(
                name=f"svc{index % 500}", ns=f"team-{index % 17}", tier=rng.randint(1, 3), rev=rng.randint(1, 99),
                replicas=rng.randint(1, 9), port=rng.choice([80, 443, 8080, 9090]), cache=rng.randint(1, 1 << 20),
                a=rng.randint(0, 255), b=rng.randint(0, 255), c=rng.randint(1, 254), c1=rng.randint(1, 9),
                suffix=f"{rng.getrandbits(32):08x}",
            )
            out.write("---\n" + text)
            written += len(text) + 4
            index += 1


if __name__ == "__main__":
    main()
