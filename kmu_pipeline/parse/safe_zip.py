"""The one way a single-member ZIP is read: GENESIS's ffcsv answers and the file Eurostat's 413
footer points to.

Untrusted archives: exactly one member, a name that cannot escape (never used as a path
anyway), a declared size under the bound, a compression ratio under MAX_RATIO (ffcsv and
SDMX-ML compress 15-40x; bombs reach 1000x and more), and the same bounds enforced on the bytes
actually inflated, since a header may lie. Nothing beyond the bound is ever written.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MAX_RATIO = 200
BLOCK = 1 << 20

Refuse = Callable[[str], Exception]


def copy_single_member(path: Path, target: BinaryIO, *, max_bytes: int,
                       refuse: Refuse) -> zipfile.ZipInfo:
    """Inflate the archive's one member into `target`, checking it as it goes."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(f"not a readable ZIP ({exc})") from None
    with archive:
        member = _checked_member(archive, max_bytes, refuse)
        ceiling = min(max_bytes, MAX_RATIO * max(member.compress_size, 1), member.file_size)
        written = 0
        try:
            with archive.open(member) as source:
                while block := source.read(BLOCK):
                    written += len(block)
                    if written > ceiling:
                        raise refuse(f"member inflates past {ceiling} bytes (its header says "
                                     f"{member.file_size}; bound {max_bytes}, ratio "
                                     f"{MAX_RATIO})")
                    target.write(block)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise refuse(f"member unreadable ({exc})") from None
    return member


def read_single_member(path: Path, *, max_bytes: int, refuse: Refuse) -> bytes:
    """The archive's one member, in memory (small answers: GENESIS tables)."""
    import io

    buffer = io.BytesIO()
    copy_single_member(path, buffer, max_bytes=max_bytes, refuse=refuse)
    return buffer.getvalue()


def _checked_member(archive: zipfile.ZipFile, max_bytes: int, refuse: Refuse) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        raise refuse(f"{len(members)} members {[m.filename for m in members][:5]}, expected "
                     f"exactly one")
    member = members[0]
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or ":" in member.filename:
        raise refuse(f"member name {member.filename!r} escapes the archive")
    if member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise refuse(f"compression ratio {member.file_size / max(member.compress_size, 1):.0f} "
                     f"exceeds {MAX_RATIO} (zip bomb?)")
    if member.file_size > max_bytes:
        raise refuse(f"member of {member.file_size} bytes exceeds the {max_bytes} byte bound")
    return member
