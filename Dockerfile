# syntax=docker/dockerfile:1
#
# The Bulwark image: one statically-Swift-linked `bulwark` binary on debian:bookworm-slim.
#
#   docker build -t bulwark:dev .            (hack/kind-deploy does this for you)
#
# Stage 1 builds with the official Swift 6.3 image for Debian 12 (bookworm), the same distribution as the runtime
# stage, so the C libraries we link (libcurl, libyaml, libbpf) have the same sonames at build and run time.
# `--static-swift-stdlib` links the Swift runtime and Foundation into the binary: the runtime stage needs no Swift
# toolchain. The eBPF object is compiled by the BPFObjectPlugin during `swift build` and embedded in the binary, so
# nothing else is copied. Pin SWIFT_IMAGE / RUNTIME_IMAGE to digests for release builds.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# Development packages of the C libraries behind CCurl, CYAML and CLibbpf (the Swift image already carries
# libcurl4-openssl-dev and pkg-config; listing them keeps this stage correct if that ever changes).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        pkg-config libcurl4-openssl-dev libyaml-dev libbpf-dev libelf-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# (The link step warns about `mktemp` inside the toolchain's static Foundation library; that is not our code.)
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product bulwark \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/bulwark" /out/bulwark \
    && strip /out/bulwark

FROM ${RUNTIME_IMAGE}
# Runtime libraries only (apt adds their own dependencies: OpenSSL, nghttp2, libelf, zlib, ...); the tests in
# Tests/DeploymentTests/DockerfileTests.swift check that this line covers every library `bulwark` links.
# ca-certificates: out-of-cluster use (`bulwark observe --kubeconfig ...`) against API servers with public CAs.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libcurl4 libyaml-0-2 libbpf1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bulwark /usr/local/bin/bulwark

LABEL org.opencontainers.image.title="bulwark" \
      org.opencontainers.image.description="Kubernetes network-policy agent (eBPF, TC on pod veths)"

# Non-root by default: `bulwark validate`, `explain` and `observe --kubeconfig` need no privileges. The DaemonSet
# (manifests/30-daemonset.yaml) runs the agent as UID 0 with every capability dropped except BPF, NET_ADMIN and
# PERFMON, and with no_new_privs (allowPrivilegeEscalation: false). Why not a non-root UID with file capabilities:
# no_new_privs makes the kernel ignore file capabilities, and Kubernetes cannot grant ambient capabilities, so a
# non-root agent would need allowPrivilegeEscalation: true; UID 0 is also what owns the host's bpffs (mode 0700),
# which a non-root UID could only enter with CAP_DAC_OVERRIDE. Nothing is written to the image filesystem, so the
# container runs with readOnlyRootFilesystem.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bulwark"]
CMD ["--help"]
