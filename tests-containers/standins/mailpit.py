#!/usr/bin/python3
"""Stand-in for Mailpit (https://mailpit.axllent.org): keeps every message it receives by SMTP
and shows them on a web page and in the part of Mailpit's API that the tests read.

    /mailpit              serve: SMTP on MP_SMTP_BIND_ADDR (0.0.0.0:1025), the web page and
                          the API on MP_UI_BIND_ADDR (0.0.0.0:8025)
    /mailpit readyz       exit 0 when the web server answers /readyz (the health check)

API (as Mailpit's): GET /api/v1/messages (newest first), GET /api/v1/message/{ID},
GET /api/v1/message/{ID}/raw, DELETE /api/v1/messages, GET /readyz."""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import signal
import sys
import threading
import urllib.request
import uuid
from datetime import UTC, datetime
from email.utils import getaddresses, parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMTP = os.environ.get("MP_SMTP_BIND_ADDR", "0.0.0.0:1025")
UI = os.environ.get("MP_UI_BIND_ADDR", "0.0.0.0:8025")

messages: list[dict] = []  # newest last
lock = threading.Lock()


def address(pair: tuple[str, str]) -> dict[str, str]:
    return {"Name": pair[0], "Address": pair[1]}


class Keeper:
    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        page = parsed.get_body(preferencelist=("html",))
        kept = {
            "ID": uuid.uuid4().hex,
            "MessageID": (parsed["Message-ID"] or "").strip("<>"),
            "From": address(parseaddr(parsed["From"] or "")),
            "To": [address(pair) for pair in getaddresses(parsed.get_all("To", []))],
            "Subject": parsed["Subject"] or "",
            "Created": datetime.now(UTC).isoformat(),
            "Size": len(raw),
            "Text": text.get_content() if text is not None else "",
            "HTML": page.get_content() if page is not None else "",
            "raw": raw.decode("utf-8", "replace"),
        }
        with lock:
            messages.append(kept)
        print(
            json.dumps({"event": "smtp.received", "to": kept["To"], "id": kept["ID"]}), flush=True
        )
        return "250 Message accepted"


def summary(message: dict) -> dict:
    return {k: v for k, v in message.items() if k not in ("Text", "HTML", "raw")}


class Web(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send(self, status: int, body: str, kind: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def find(self, message_id: str) -> dict | None:
        with lock:
            return next((m for m in messages if m["ID"] == message_id), None)

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/") or "/"
        parts = path.strip("/").split("/")
        if path == "/readyz":
            self.send(200, "ok", "text/plain")
        elif path == "/api/v1/messages":
            with lock:
                listed = [summary(m) for m in reversed(messages)]
            self.send(200, json.dumps({"total": len(listed), "messages": listed}))
        elif parts[:3] == ["api", "v1", "message"] and len(parts) in (4, 5):
            found = self.find(parts[3])
            if found is None:
                self.send(404, "message not found", "text/plain")
            elif len(parts) == 5 and parts[4] == "raw":
                self.send(200, found["raw"], "text/plain")
            else:
                self.send(200, json.dumps({k: v for k, v in found.items() if k != "raw"}))
        elif path == "/":
            with lock:
                rows = "".join(
                    f"<tr><td>{html.escape(m['Created'])}</td>"
                    f"<td>{html.escape(', '.join(t['Address'] for t in m['To']))}</td>"
                    f"<td>{html.escape(m['Subject'])}</td></tr>"
                    for m in reversed(messages)
                )
            self.send(
                200,
                "<!doctype html><title>Mail (stand-in for Mailpit)</title>"
                "<h1>Messages</h1><table><tr><th>Received</th><th>To</th><th>Subject</th>"
                f"</tr>{rows}</table>",
                "text/html",
            )
        else:
            self.send(404, "not found", "text/plain")

    def do_DELETE(self) -> None:
        if self.path.rstrip("/") == "/api/v1/messages":
            with lock:
                messages.clear()
            self.send(200, "ok", "text/plain")
        else:
            self.send(404, "not found", "text/plain")


def host_port(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host or "0.0.0.0", int(port)


def serve() -> None:
    from aiosmtpd.controller import Controller

    smtp_host, smtp_port = host_port(SMTP)
    controller = Controller(Keeper(), hostname=smtp_host, port=smtp_port)
    controller.start()
    web = ThreadingHTTPServer(host_port(UI), Web)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=web.shutdown).start())
    print(json.dumps({"event": "mailpit.started", "smtp": SMTP, "ui": UI}), flush=True)
    try:
        web.serve_forever()
    finally:
        controller.stop()


def readyz() -> int:
    _, port = host_port(UI)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(readyz() if sys.argv[1:] == ["readyz"] else serve())
