"""A real HTTP server on 127.0.0.1 serving a folder, with failures on demand (test helper).

    with serve(folder, faults={"owner/repo/commit/file.csv": NOT_FOUND}) as server:
        server.url        # http://127.0.0.1:<port>, the root of ``folder``
        server.requests   # every path asked for, unquoted, without the leading slash
        server.faults     # relpath -> fault; may be changed while the server runs

Faults: ``NOT_FOUND`` (404), ``TRUNCATE`` (announces the full Content-Length, sends half the
bytes, closes), ``CORRUPT`` (one byte changed in the middle), ``STALL`` (headers, then
silence for ``stall_s`` seconds or until the server stops, then close). The default folder
is the tests' mirror (conftest.py's ``MIRROR``: ``$ZEROSHOT_NAS_SHARED_DATA/mirror``, else
``$ZEROSHOT_NAS_MIRROR``, else ``../shared/data/mirror``).
Leaving the ``with`` block stops the server and joins every thread it started.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import MIRROR

NOT_FOUND = "404"
TRUNCATE = "truncate"
CORRUPT = "corrupt"
STALL = "stall"
FAULTS = (NOT_FOUND, TRUNCATE, CORRUPT, STALL)

STALL_S = 10.0  # longer than the ~2 s client time-out the tests use, yet bounded
_CHUNK = 1 << 16
_JOIN_S = 15.0  # a STALL handler wakes at once on stop; this only bounds a bug


@dataclass
class Served:
    """Handle on a running server: its base URL, the paths asked for, the faults to apply."""

    url: str
    folder: Path
    requests: list[str] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    # Non-daemon handler threads, so server_close() joins them: nothing outlives the test.
    daemon_threads = False
    block_on_close = True

    def __init__(self, served: Served, stall_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.served = served
        self.stall_s = stall_s
        self.stopping = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that connects and says nothing cannot hold a thread forever

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass  # keep test output clean; the paths are in Served.requests

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        served = self.server.served
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        served.requests.append(rel)
        fault = served.faults.get(rel)
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} for {rel}")
        target = (served.folder / rel).resolve()
        inside = target.is_relative_to(served.folder.resolve())
        if fault == NOT_FOUND or not inside or not target.is_file():
            self.send_error(404, "not found")
            return
        size = target.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.close_connection = True
        try:
            if fault == STALL:
                self.wfile.flush()
                self.server.stopping.wait(self.server.stall_s)
            elif fault == TRUNCATE:
                self._send(target, limit=size // 2)
            else:
                self._send(target, flip_at=size // 2 if fault == CORRUPT else None)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out or error): nothing more to send

    def _send(self, path: Path, limit: int | None = None, flip_at: int | None = None) -> None:
        with path.open("rb") as handle:
            if flip_at is None:
                if limit is None:
                    shutil.copyfileobj(handle, self.wfile, _CHUNK)
                else:
                    self.wfile.write(handle.read(limit))
                return
            data = bytearray(handle.read())
        data[flip_at] ^= 0x01
        self.wfile.write(bytes(data))


@contextmanager
def serve(
    folder: str | Path | None = None,
    faults: dict[str, str] | None = None,
    stall_s: float = STALL_S,
) -> Iterator[Served]:
    """Serve ``folder`` (default: the lab mirror) over HTTP on a free port of 127.0.0.1."""
    root = Path(folder) if folder is not None else MIRROR
    if not root.is_dir():
        raise FileNotFoundError(f"nothing to serve: {root} is not a folder")
    served = Served(url="", folder=root, faults=dict(faults or {}))
    server = _Server(served, stall_s)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-mirror"
    )
    thread.start()
    try:
        yield served
    finally:
        server.stopping.set()  # wake STALL handlers first so the joins below are quick
        server.shutdown()
        server.server_close()  # joins the handler threads (block_on_close)
        thread.join(_JOIN_S)
        if thread.is_alive():
            raise RuntimeError("http_mirror server thread did not stop")
