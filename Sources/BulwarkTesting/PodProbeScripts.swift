/// Python 3 programs the netns pods run (Python is on every test machine; no netcat needed).
enum PodProbeScripts {
    /// Echo server: `server.py TCP_PORTS UDP_PORTS` (comma-separated). Every TCP connection and UDP datagram is
    /// echoed back, so a probe knows its packets made it both ways.
    static let server = #"""
        import socket, sys, threading
        def listen(port):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(4096)
            return s
        def tcp(s):
            while True:
                c, _ = s.accept()
                threading.Thread(target=echo, args=(c,), daemon=True).start()
        def echo(c):
            try:
                while True:
                    d = c.recv(4096)
                    if not d: break
                    c.sendall(d)
            except OSError: pass
            c.close()
        def bind_udp(port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
            return s
        def udp(s):
            while True:
                d, a = s.recvfrom(4096); s.sendto(d, a)
        ports = lambda i: [int(p) for p in sys.argv[i].split(",") if p]
        for s in [listen(p) for p in ports(1)]: threading.Thread(target=tcp, args=(s,), daemon=True).start()
        for s in [bind_udp(p) for p in ports(2)]: threading.Thread(target=udp, args=(s,), daemon=True).start()
        print("ready", flush=True)
        sys.stdin.read()
        """#

    /// Prober: reads commands on stdin, answers `ok` or `fail` per line. TIMEOUT bounds the TCP handshake (which the
    /// kernel completes, so it is fast even on a loaded machine) or the UDP round trip; the echo after a completed
    /// handshake gets 5 s, so a busy server process is not mistaken for a dropped packet.
    /// `tcp HOST PORT TIMEOUT`, `udp HOST PORT TIMEOUT`, `open HOST PORT` (keeps a connection, answers `ok ID`),
    /// `send ID TIMEOUT` (one echo round trip on a kept connection).
    static let prober = #"""
        import socket, sys
        kept = {}
        def answer(ok, extra=""):
            print(("ok" if ok else "fail") + extra, flush=True)
        for line in sys.stdin:
            w = line.split()
            try:
                if w[0] == "tcp":
                    with socket.create_connection((w[1], int(w[2])), timeout=float(w[3])) as s:
                        s.settimeout(5); s.sendall(b"x"); answer(s.recv(1) == b"x")
                elif w[0] == "udp":
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        s.settimeout(float(w[3])); s.sendto(b"x", (w[1], int(w[2]))); answer(s.recv(16) == b"x")
                elif w[0] == "open":
                    s = socket.create_connection((w[1], int(w[2])), timeout=2)
                    kept[len(kept)] = s; answer(True, " %d" % (len(kept) - 1))
                elif w[0] == "send":
                    s = kept[int(w[1])]; s.settimeout(float(w[2])); s.sendall(b"y"); answer(s.recv(1) == b"y")
                else:
                    answer(False)
            except (OSError, KeyError, IndexError, ValueError):
                answer(False)
        """#
}
