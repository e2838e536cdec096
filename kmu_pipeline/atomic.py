"""Small files replaced in one rename, so a reader sees the old one or the new one, never half."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json(path: Path, value, *, durable: bool = False) -> None:
    """`value` as JSON at `path`, through a temp file of a unique name beside it (writers never
    share one) and a rename; `durable`: on disk (fsync) before the rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # only left when the rename did not happen
