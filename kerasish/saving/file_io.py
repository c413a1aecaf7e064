"""Writing files so that a crash, a full disk or a reader never sees half a file,
and opening HDF5 files for reading without a lock that can break a writer.

``atomic_write(path)`` is the one way kerasish writes a file: the content goes
to a temporary file beside ``path`` (same folder, so same file system), which
is flushed and fsynced, then renamed over ``path`` with ``os.replace`` (atomic
on POSIX and Windows); the folder is fsynced after the rename where the OS
allows, so the rename itself survives a power cut. On any failure (an
exception, a full disk) the temporary file is removed and ``path`` is left
exactly as it was. A process killed mid-write (``kill -9``) leaves ``path``
whole (old or new) and at most a hidden ``.<name>.<pid>.<hex>.tmp`` beside it,
which the next ``atomic_write`` of the same path removes once that process is
gone.

``open_h5_for_reading(path)`` opens an HDF5 file read-only with HDF5's file
locking off (where h5py and HDF5 support it): a second process reading a
checkpoint must not make the training run's next save fail on the lock. Since
writers only ever rename a finished file into place, a reader sees the old
file or the new one, never a torn one; it needs no lock for that.

This module imports nothing of kerasish (callers anywhere may use it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid

import h5py

__all__ = ["atomic_write", "fsync_directory", "fsync_file", "open_h5_for_reading", "open_h5_for_writing"]

_TMP_SUFFIX = ".tmp"


def _tmp_prefix(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


def _remove_stale_temporaries(path: str) -> None:
    """Remove ``.<name>.<pid>.<hex>.tmp`` files left by a killed writer of
    ``path`` (its process no longer exists). A live writer's file is kept."""
    folder, name = os.path.split(path)
    head = f".{name}."
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(head) and entry.endswith(_TMP_SUFFIX)):
            continue
        parts = entry[len(head):-len(_TMP_SUFFIX)].split(".")
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, entry))


def fsync_directory(folder: str) -> None:
    """Flush a folder's entries (a rename, a new file) to disk where the OS
    allows it (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems (and Windows) cannot fsync a folder: nothing more to do.
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES, errno.ENOTSUP, errno.EPERM):
            raise
    finally:
        os.close(fd)


def fsync_file(path: str) -> None:
    """Make a closed file's contents durable (before the rename that publishes it)."""
    # O_RDWR: Windows fsyncs only handles open for writing.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode=None):
    """Write ``path`` all at once: the old file (if any) stays until the new
    one is complete and on disk.

    Args:
        path: the file to write (str or os.PathLike). Its folder must exist.
        mode: ``None`` (default) to be given the temporary file's path, for
            writers that open the file themselves (``h5py.File(tmp, "w")``,
            ``zipfile.ZipFile(tmp, "w")``, ``torch.export.save``); or an
            ``open()`` mode for writing (``"w"``, ``"wb"``) to be given an
            open file object.

    Yields:
        The temporary path (``mode=None``) or the open file object. A writer
        given the path must have closed the file when the block ends.

    Raises:
        Whatever the block raises, and OSError from the flush, fsync or
        rename (a full disk: ``errno.ENOSPC``); in every case the temporary
        file is removed and ``path`` is untouched.

    Example:

        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> target = os.path.join(folder, "notes.txt")
        >>> with atomic_write(target, "w") as f:
        ...     _ = f.write("first")
        >>> try:
        ...     with atomic_write(target, "w") as f:
        ...         _ = f.write("half of a second vers")
        ...         raise RuntimeError("crash mid-write")
        ... except RuntimeError:
        ...     pass
        >>> open(target).read(), os.listdir(folder)
        ('first', ['notes.txt'])
    """
    if mode is not None and not any(c in mode for c in "wax"):
        raise ValueError(f"atomic_write('{path}'): mode must open the file for writing, got {mode!r}.")
    path = os.fspath(path)
    if os.path.islink(path):
        # Replace the file the link points to, and keep the link.
        path = os.path.realpath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(path)
    tmp = f"{_tmp_prefix(path)}{os.getpid()}.{uuid.uuid4().hex[:12]}{_TMP_SUFFIX}"
    # 0o666 minus the umask, as open() gives a new file; an existing target's
    # permissions are kept.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        if mode is None:
            os.close(fd)
            fd = None
            yield tmp
            fsync_file(tmp)
        else:
            f = os.fdopen(fd, mode)
            fd = None
            try:
                yield f
                f.flush()
                os.fsync(f.fileno())
            finally:
                f.close()
        os.replace(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_directory(folder)


def _locking_supported() -> bool:
    # h5py >= 3.5 takes `locking`; HDF5 honours it from 1.12.1 (1.10.7 on 1.10).
    if tuple(h5py.version.version_tuple[:2]) < (3, 5):
        return False
    v = tuple(h5py.version.hdf5_version_tuple[:3])
    return v >= (1, 12, 1) or (1, 10, 7) <= v < (1, 11, 0)


_READ_KWARGS = {"locking": False} if _locking_supported() else {}


def open_h5_for_reading(path) -> h5py.File:
    """Open an HDF5 file (a path or a binary file object) read-only, without
    taking HDF5's file lock where h5py supports turning it off.

    Args:
        path: str, os.PathLike or a readable binary file object.

    Returns:
        An open ``h5py.File``; close it (``with``) when done.

    Raises:
        OSError: naming ``path`` when it cannot be opened as HDF5.

    Example:

        >>> import os, tempfile, h5py
        >>> target = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> with h5py.File(target, "w") as f:
        ...     _ = f.create_dataset("x", data=[1, 2, 3])
        >>> with open_h5_for_reading(target) as f:
        ...     f["x"][()].tolist()
        [1, 2, 3]
    """
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    try:
        return h5py.File(path, "r", **_READ_KWARGS)
    except OSError as e:
        raise OSError(f"Cannot open '{path}' as an HDF5 file: {e}") from e


@contextlib.contextmanager
def open_h5_for_writing(path):
    """``h5py.File(path, "w")`` that is closed however the block ends.

    HDF5 writes much of a file when it is closed; on a full disk that close
    fails and HDF5 keeps the file open, to flush it again when the process
    exits (a crash at exit, against a file already removed). Here a failed
    write or close still releases HDF5's handle, and the first error is the
    one raised. Use it on ``atomic_write``'s temporary path.

    Args:
        path: the (temporary) file to create.

    Example:

        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> with atomic_write(target) as tmp, open_h5_for_writing(tmp) as f:
        ...     _ = f.create_dataset("x", data=[1.0])
        >>> with open_h5_for_reading(target) as f:
        ...     f["x"][()].tolist()
        [1.0]
    """
    f = h5py.File(path, "w")
    try:
        yield f
    except BaseException:
        _release(f)
        raise
    try:
        f.close()
    except BaseException:
        _release(f)
        raise


def _release(f) -> None:
    """Close ``f`` after a failure, whatever HDF5 says, so nothing is left to
    flush at exit."""
    for close in (f.close, f.id.close):
        try:
            close()
        except Exception:
            pass  # the error that matters is already being raised
        if not f.id.valid:
            return
