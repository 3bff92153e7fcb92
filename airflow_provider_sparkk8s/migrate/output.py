"""Write generated files so that a failure leaves nothing partial behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def check_names(files: Mapping[str, str]) -> None:
    """Generated names are plain relative paths: nothing may escape the output directory."""
    for name in files:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"refusing to write {name!r}: not a plain relative path")


def write_all(out: Path, files: Mapping[str, str]) -> list[str]:
    """Write every file or none: all contents go to temporary files first, then each replaces its target
    (``os.replace`` is atomic). Returns the names written."""
    check_names(files)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output directory {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in sorted(files.items()):
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((name, Path(temp_name)))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(temp_name, 0o644)
    except BaseException:
        for _, temp in staged:
            temp.unlink(missing_ok=True)
        raise
    for name, temp in staged:
        os.replace(temp, out / name)
    return [name for name, _ in staged]
