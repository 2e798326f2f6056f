#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's aiosmtpd) on 127.0.0.1.

Usage: smtp_sink.py DIR — listens on a free port, prints "ready PORT", and writes each
message it receives to DIR/NNNN.json as {"from", "to", "subject", "body"} with the body
decoded to text, so tests in any language can read the mail that actually arrived.

A recipient listed in DIR/../hold (one address per line) is held: the sink writes the
marker DIR/../held-ADDRESS and never answers that message's DATA, as a mail server that
hangs would, so the mail is not accepted; a test can kill the sender meanwhile.
"""
import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.parent = os.path.dirname(os.path.abspath(directory))
        self.count = 0
        self.lock = threading.Lock()

    def held(self):
        try:
            with open(os.path.join(self.parent, "hold"), encoding="utf-8") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    async def handle_DATA(self, server, session, envelope):
        held = self.held().intersection(envelope.rcpt_tos)
        if held:
            for address in held:
                open(os.path.join(self.parent, "held-" + address), "w").close()
            await asyncio.Event().wait()  # until the sender goes away
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "body": body.get_content() if body else "",
        }
        with self.lock:
            self.count += 1
            path = os.path.join(self.directory, f"{self.count:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    # aiosmtpd checks its server by connecting to the configured port, so port 0 will not do.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
