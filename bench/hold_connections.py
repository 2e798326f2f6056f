#!/usr/bin/env python3
"""Opens many connections to a server and holds them, as a crowd of browsers (or one
attacker) would, for the connection benchmarks (bench/connections.sh, static_vs_nginx.sh).

  hold_connections.py PORT COUNT idle|half-open [FIRST_ADDRESS_INDEX]

idle: each connection sends one whole request, reads the answer and then stays open (an
idle keep-alive connection). half-open: each sends a request line and one header and never
finishes. The connections come from 127.0.<i>.<j>, 250 per address, so that limits per
client address apply as they would to many clients. Prints "ready N" when all are open
(N those that got through), then holds them until it is killed.
"""
import resource
import selectors
import socket
import sys
import time


def main():
    port, count, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
    held = []
    for i in range(count):
        n = first + i
        source = f"127.0.{10 + n // 250}.{1 + n % 250}"
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
            if mode == "idle":
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            else:
                s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
            held.append(s)
        except OSError:
            s.close()
    if mode == "idle":
        # Read each answer so that the connection is idle, not waiting to write.
        sel = selectors.DefaultSelector()
        for s in held:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        deadline = time.time() + 30
        pending = len(held)
        while pending and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if b"\r\n\r\n" in data or not data:
                    sel.unregister(key.fileobj)
                    pending -= 1
    alive = 0
    for s in held:
        try:
            s.setblocking(False)
            if s.recv(1, socket.MSG_PEEK) == b"":
                continue  # closed by the server
        except BlockingIOError:
            pass
        except OSError:
            continue
        alive += 1
    print(f"ready {alive}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
