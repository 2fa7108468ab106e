"""Files only the bot's user may read: the database holds members' notes and links.

A folder the bot creates is 0700 and a database or backup file it creates is 0600. SQLite gives
a database's -wal, -shm and -journal files the database file's own permissions, so creating the
file 0600 before SQLite opens it is enough for all of them. Existing files and folders are left
as their owner set them.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) owner-only; an existing one is left alone."""
    if folder.is_dir():
        return
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask; chmod says exactly what we mean.
    folder.chmod(FOLDER_MODE)


def create_file(path: Path) -> None:
    """Create an empty owner-only file at `path` unless something is there already."""
    make_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(descriptor)
    path.chmod(FILE_MODE)
