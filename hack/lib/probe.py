#!/usr/bin/env python3
"""Tiny servers and probes for the demo's network-namespace "pods" (Python standard library only).

  probe.py serve TCPPORT[,TCPPORT...] UDPPORT[,...]   serve TCP (accept, send "ok", close) and UDP (echo)
  probe.py tcp HOST PORT        exit 0 when a TCP connection succeeds and the server answers, 1 otherwise
  probe.py udp HOST PORT        exit 0 when a UDP datagram is echoed back, 1 otherwise
Timeouts are short (0.7 s) so a denied probe costs little.
"""
import socket
import sys
import threading

TIMEOUT = 0.7


def serve(tcp_ports, udp_ports):
    def tcp_loop(port):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", port))
        server.listen(64)
        while True:
            connection, _ = server.accept()
            try:
                connection.sendall(b"ok\n")
            finally:
                connection.close()

    def udp_loop(port):
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("0.0.0.0", port))
        while True:
            data, peer = server.recvfrom(2048)
            server.sendto(data, peer)

    threads = [threading.Thread(target=tcp_loop, args=(p,), daemon=True) for p in tcp_ports]
    threads += [threading.Thread(target=udp_loop, args=(p,), daemon=True) for p in udp_ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def probe_tcp(host, port):
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as connection:
            connection.settimeout(TIMEOUT)
            return connection.recv(16).startswith(b"ok")
    except OSError:
        return False


def probe_udp(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT)
        try:
            client.sendto(b"probe", (host, port))
            data, _ = client.recvfrom(2048)
            return data == b"probe"
        except OSError:
            return False


def ports(text):
    return [int(p) for p in text.split(",") if p]


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        serve(ports(argv[2]), ports(argv[3]))
        return 0
    if len(argv) == 4 and argv[1] in ("tcp", "udp"):
        probe = probe_tcp if argv[1] == "tcp" else probe_udp
        return 0 if probe(argv[2], int(argv[3])) else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
