"""The threaded HTTP server scaffolding the service fakes share (start, stop, context manager).

A fake is a plain object holding state and a ``handle`` method; its ``BaseHTTPRequestHandler``
subclass reaches it through the ``fake`` class attribute this base sets on a per-server copy of the
handler. ``start(port=...)`` can bind the port a stopped server had, so a test can take a service
away (connection refused) and bring it back where its clients still point.

    class FakeThing(ThreadedHTTPFake):
        def __init__(self):
            super().__init__(_Handler, name="fake-thing")
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

BIND_RETRY_S = 5.0  # a just-closed port can take a moment to be free again


class ThreadedHTTPFake:
    """Serves ``handler`` on 127.0.0.1 from a background thread; the handler sees this object as ``fake``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, name: str):
        self._handler, self._name = handler, name
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def start(self, port: int = 0) -> Self:
        """Listen on ``port`` (0: a free one); the previous ``port`` keeps clients' URLs valid."""
        handler = type("Handler", (self._handler,), {"fake": self})
        deadline = time.monotonic() + BIND_RETRY_S
        while True:
            try:
                self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
                break
            except OSError:
                if not port or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until ``start`` is called again. State is kept."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port served, or last served when stopped."""
        if self._port is None:
            raise RuntimeError(f"{self._name} was never started")
        return self._port

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
