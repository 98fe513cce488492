"""`DataDir`: a peer process's data directory, locked for the life of the process.

Invariants: while a `DataDir` is open, this process holds an exclusive `flock` on
`<root>/LOCK`, and that file holds our PID, so a second process (or a second `DataDir` in this
process) on the same directory fails with `DataDirLockedError` naming the holder. The kernel
drops the lock when the holder exits, even on SIGKILL, so a stale LOCK file never blocks a
restart. `write_atomic` replaces a file so that after a crash it holds either the old or the
new contents, never a mix. Directories are created owner-only (0700), files 0600.
A `DataDir` is not safe to share between threads.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path, PurePosixPath

from common.closing import CloseOnExit
from common.errors import CommonError, ConfigError, UsageError

__all__ = ["DataDir", "DataDirError", "DataDirLockedError", "write_file_atomic"]

LOCK_FILE = "LOCK"
DIR_MODE = 0o700  # data directories hold keys and secrets: owner only
FILE_MODE = 0o600  # likewise for the files in them
MAX_PID_BYTES = 32  # a PID line is a few digits; never read more of a foreign LOCK file


class DataDirError(CommonError):
    """The data directory could not be created, read or written; `path` names the file."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(message)


class DataDirLockedError(DataDirError, ConfigError):
    """Another process (or handle) holds the data directory; `pid` is its PID if known."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.pid = pid
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"data directory {path} is in use by another process ({holder})", path=path
        )


class DataDir(CloseOnExit):
    """An exclusively locked data directory with atomic small-file writes."""

    __slots__ = ("_lock_fd", "_root")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._root = Path(path).absolute()
        self._lock_fd: int | None = None
        try:
            self._root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirError(
                f"cannot create data directory {self._root}: {exc.strerror}", path=self._root
            ) from exc
        self._lock_fd = _acquire_lock(self._root)

    @property
    def path(self) -> Path:
        """The root of the data directory (absolute)."""
        return self._root

    def sub(self, name: str) -> Path:
        """The subdirectory `name` (a relative path such as "raft" or "chain/blocks"), created."""
        self._check_open()
        target = self._root / _relative(name)
        try:
            target.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirError(f"cannot create {target}: {exc.strerror}", path=target) from exc
        return target

    def write_atomic(self, name: str, data: bytes) -> None:
        """Replace the file `name` with `data`, durably: temp file, fsync, rename, fsync dir."""
        self._check_open()
        write_file_atomic(self._root / _file_name(name), data)

    def read(self, name: str) -> bytes | None:
        """The contents of the file `name`, or None if it does not exist."""
        self._check_open()
        target = self._root / _file_name(name)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataDirError(f"cannot read {target}: {exc.strerror}", path=target) from exc

    def close(self) -> None:
        """Release the lock; idempotent. The directory and its files stay."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __repr__(self) -> str:
        state = "open" if self._lock_fd is not None else "closed"
        return f"<DataDir {str(self._root)!r} {state}>"

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise UsageError(f"data directory {self._root} is closed")


def _acquire_lock(root: Path) -> int:
    lock_path = root / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise DataDirError(f"cannot open {lock_path}: {exc.strerror}", path=lock_path) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        raise DataDirLockedError(root, pid) from None
    except OSError as exc:
        os.close(fd)
        raise DataDirError(f"cannot lock {lock_path}: {exc.strerror}", path=lock_path) from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    os.fsync(fd)
    return fd


def _read_pid(fd: int) -> int | None:
    """The PID in a LOCK file, or None if it is empty or garbled (a holder mid-write)."""
    text = os.pread(fd, MAX_PID_BYTES, 0).decode("ascii", errors="replace").strip()
    return int(text) if text.isdecimal() else None


def write_file_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data` durably (temp file, fsync, rename, fsync the directory),
    so a crash leaves the old file or the new one. `DataDirError` if it cannot."""
    if not isinstance(data, bytes):
        raise UsageError(f"data must be bytes, found {type(data).__name__}")
    temp = target.with_name(f".{target.name}.tmp")
    try:
        _write_synced(temp, data)
        os.replace(temp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise DataDirError(f"cannot write {target}: {exc.strerror}", path=target) from exc


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _relative(name: str) -> PurePosixPath:
    """`name` as a relative path that stays inside the data directory."""
    if not isinstance(name, str):
        raise UsageError(f"name must be a string, found {type(name).__name__}")
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts) or parts[0] == LOCK_FILE:
        raise UsageError(f"invalid data directory entry {name!r}: use a plain relative path")
    return PurePosixPath(name)


def _file_name(name: str) -> str:
    """`name` as a plain file name in the root (no separators, not hidden, not LOCK)."""
    _relative(name)
    if "/" in name or name.startswith("."):
        raise UsageError(f"invalid file name {name!r}: use a plain name without '/' or '.'")
    return name
