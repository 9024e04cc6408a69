"""Serving the emulator: bind a loopback socket (port 0 = a free port), run uvicorn on it.

:class:`EmulatorServer` is used both by the ``aoai-ft emulator`` command (foreground, stops on
SIGTERM/SIGINT) and by tests (``with EmulatorServer(config) as emu: emu.base_url``, in a thread).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from .app import create_app
from .backend import Backend
from .config import EmulatorConfig


class _Server(uvicorn.Server):
    """uvicorn's server, except that SIGTERM/SIGINT end it with exit status 0: uvicorn re-raises the
    signal after its graceful shutdown, which would kill the process before the state is saved."""

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if captured is not None:
            captured.clear()


class EmulatorServer:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by accepted connections: without it, keep-alive requests wait ~40 ms for
        # delayed ACKs (Nagle), because responses are written as separate head and body segments.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((self.config.host, self.config.port))
        self._sock.listen(512)  # connections made before uvicorn starts wait in the backlog
        self.port = self._sock.getsockname()[1]
        self.config.port = self.port
        self.base_url = f"http://{self.config.host}:{self.port}"
        self.backend = Backend(self.config)
        self.backend.base_url = self.base_url
        self.app = create_app(self.backend)
        self._server = _Server(
            uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                           timeout_graceful_shutdown=2)
        )
        self._thread: threading.Thread | None = None
        self._ticker_stop = threading.Event()

    # The emulator also advances lifecycles in the background, so that state moves (and the
    # inactivity rule fires) even when nobody polls.
    def _tick_loop(self) -> None:
        while not self._ticker_stop.wait(0.2):
            try:
                self.backend.tick()
            except Exception:  # pragma: no cover - never kill the ticker
                pass

    def ready_line(self) -> str:
        accounts = ", ".join(f"{n}={r}" for n, r in self.config.accounts)
        return (f"emulator ready: {self.base_url} (subscription {self.config.subscription_id}, "
                f"resource group {self.config.resource_group}, accounts {accounts})")

    def serve_forever(self) -> None:
        """Run in the foreground until SIGTERM/SIGINT (uvicorn installs the handlers)."""
        ticker = threading.Thread(target=self._tick_loop, name="emulator-ticker", daemon=True)
        ticker.start()
        print(self.ready_line(), flush=True)
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._ticker_stop.set()
            self.backend.close()

    # -- in a thread, for tests -------------------------------------------------------------
    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])),
                                        name="emulator", daemon=True)
        self._thread.start()
        threading.Thread(target=self._tick_loop, name="emulator-ticker", daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._ticker_stop.set()
        self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        self._sock.close()
        self.backend.close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
