"""Progress of a long tool run, on standard error, so standard output holds the results once.

On a terminal one live line is redrawn (files done of all, seconds elapsed, updated
every second even while promtool is busy) and erased at the end. In a log, where a
redrawn line would be noise, each finished file is one plain line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from .report import Check


class FileProgress:
    """A ``testing.Progress`` callback: ``progress(done, total, checks)``."""

    def __init__(
        self,
        stream: TextIO,
        what: str,
        clock: Callable[[], float] = time.monotonic,
        tick: float | None = 1.0,
    ) -> None:
        self.stream = stream
        self.what = what
        self.clock = clock
        self.started = clock()
        self.live = stream.isatty()
        self.done = 0
        self.total = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.live and tick:
            self._ticker = threading.Thread(target=self._tick, args=(tick,), daemon=True)
            self._ticker.start()

    def __call__(self, done: int, total: int, checks: list[Check]) -> None:
        with self._lock:
            self.done, self.total = done, total
            if self.live:
                self._draw()
            elif checks:  # a step with nothing to check (no Alertmanager config) stays quiet
                files = ", ".join(sorted({c.suite for c in checks}))
                self.stream.write(f"[{done}/{total} files, {self._elapsed()}] {files}\n")
                self.stream.flush()

    def close(self) -> None:
        """Stop the ticker and erase the live line (a log keeps its plain lines)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        total = f"{self.done}/{self.total} files" if self.total else "starting"
        self.stream.write(f"\r\033[K{self.what}: {total}, {self._elapsed()}")
        self.stream.flush()

    def _elapsed(self) -> str:
        seconds = int(self.clock() - self.started)
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
