"""Persistent emulator state: one JSON document plus file contents (blobs) on disk.

The document is rewritten atomically (write to a temporary file, then rename) after every change,
so an emulator restarted on the same ``--state-dir`` finds its accounts, files, jobs, models and
deployments again. Callers hold :attr:`Store.lock` while they read-modify-write.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

SECTIONS = ("accounts", "files", "jobs", "models", "deployments", "operations", "events", "checkpoints")


def empty_state() -> dict[str, Any]:
    state: dict[str, Any] = {name: {} for name in SECTIONS}
    state["clock"] = None  # emulator time when last saved
    state["sequence"] = 0
    state["activity"] = {}  # last completion per deployment key, for the inactivity rule
    return state


class Store:
    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.blobs = self.dir / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._path = self.dir / "state.json"
        self.lock = threading.RLock()
        self.data: dict[str, Any] = empty_state()
        if self._path.exists():
            loaded = json.loads(self._path.read_text(encoding="utf-8"))
            self.data.update(loaded)

    def save(self) -> None:
        with self.lock:
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self._path)

    def reset(self) -> None:
        with self.lock:
            for blob in self.blobs.iterdir():
                blob.unlink()
            self.data = empty_state()
            self.save()

    def next_sequence(self) -> int:
        with self.lock:
            self.data["sequence"] += 1
            return self.data["sequence"]

    def blob_path(self, blob_id: str) -> Path:
        return self.blobs / blob_id

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.data[section]
