"""``keras.utils.get_file``: download a file once into a cache folder,
check its hash, and optionally extract a tar / zip archive.

Downloads stream into a temporary file next to the target while the hash is
computed, and only a file whose hash matches is renamed into place
(:func:`kerasish.saving.file_io.atomic_write`): an interrupted or corrupted
download never leaves a partial file, and never replaces a good cached copy.
md5 checks use torchvision's ``calculate_md5``. Archives are extracted only
when every member stays inside the target folder (no absolute paths, no
``..``, no links pointing outside, no device files); they are unpacked into
a temporary folder that is renamed into place when complete.

torchvision's ``download_url`` and ``extract_archive`` are not used for the
transfer and the unpacking themselves: the first retries a failed ``https``
download over plain ``http``, and the second extracts tar members without
any path filter.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import warnings
import zipfile
from urllib.request import urlopen

from torchvision.datasets.utils import calculate_md5

from kerasish.saving.file_io import atomic_write

__all__ = ["get_file", "hash_file", "validate_file", "extract_archive", "keras_home"]

_CHUNK = 1 << 20


def keras_home() -> str:
    """The cache root: ``$KERAS_HOME`` or ``~/.keras`` (as Keras).

    Example:
        >>> os.path.basename(keras_home()) if "KERAS_HOME" not in os.environ else ".keras"
        '.keras'
    """
    return os.path.abspath(os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")))


def _resolve_algorithm(algorithm: str, file_hash: str | None) -> str:
    if algorithm == "auto":
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"get_file: `hash_algorithm` must be 'auto', 'sha256' or 'md5', got hash_algorithm={algorithm!r}.")
    return algorithm


def hash_file(fpath, algorithm: str = "sha256") -> str:
    """Hex digest of a file (read in 1 MiB chunks).

    Args:
        fpath: the file.
        algorithm: ``"sha256"`` or ``"md5"``.

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> hash_file(path)[:16]
        'e3b0c44298fc1c14'
    """
    algorithm = _resolve_algorithm(algorithm, None)
    if algorithm == "md5":
        return calculate_md5(fpath, chunk_size=_CHUNK)
    hasher = hashlib.sha256()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's hash is ``file_hash`` (``"auto"``: sha256 for a
    64-character hash, else md5).

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> validate_file(path, "d41d8cd98f00b204e9800998ecf8427e")
        True
    """
    return hash_file(fpath, _resolve_algorithm(algorithm, file_hash)) == str(file_hash).lower()


# --------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------
def _inside(base: str, name: str) -> bool:
    target = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([target, base]) == base


def _check_tar(tar: tarfile.TarFile, base: str, archive: str) -> None:
    for info in tar.getmembers():
        bad = None
        if os.path.isabs(info.name) or not _inside(base, info.name):
            bad = "its path leaves the target folder"
        elif info.issym() and not _inside(base, os.path.join(os.path.dirname(info.name), info.linkname)):
            bad = f"it is a link to {info.linkname!r}, outside the target folder"
        elif info.islnk() and (os.path.isabs(info.linkname) or not _inside(base, info.linkname)):
            bad = f"it is a hard link to {info.linkname!r}, outside the target folder"
        elif info.isdev():
            bad = "it is a device file"
        if bad:
            raise ValueError(f"Refusing to extract the archive {archive}: its member {info.name!r} is unsafe ({bad}). Nothing was extracted.")


def _check_zip(zf: zipfile.ZipFile, base: str, archive: str) -> None:
    for info in zf.infolist():
        name = info.filename
        if os.path.isabs(name) or name.startswith(("/", "\\")) or not _inside(base, name) or ".." in name.replace("\\", "/").split("/"):
            raise ValueError(f"Refusing to extract the archive {archive}: its member {name!r} is unsafe (its path leaves the "
                             "target folder). Nothing was extracted.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValueError(f"Refusing to extract the archive {archive}: its member {name!r} is a symbolic link. Nothing was extracted.")


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extract a tar (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``)
    or zip archive into ``path``, refusing unsafe members.

    The archive is unpacked into a temporary folder beside ``path`` and moved
    into place when complete (an existing ``path`` is replaced).

    Args:
        file_path: the archive.
        path: the folder to create.
        archive_format: ``"auto"`` (``["tar", "zip"]``), ``"tar"``,
            ``"zip"``, a list of those, or None / ``[]`` (extract nothing).

    Returns:
        True if the archive matched a format and was extracted, else False.

    Raises:
        ValueError: a member's path leaves ``path``, is a link pointing
            outside, or is a device file (nothing is extracted); an unknown
            ``archive_format``.

    Example:
        >>> import io, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> archive = os.path.join(folder, "a.zip")
        >>> with zipfile.ZipFile(archive, "w") as z:
        ...     z.writestr("data/hello.txt", "hi")
        >>> extract_archive(archive, os.path.join(folder, "out"))
        True
        >>> open(os.path.join(folder, "out", "data", "hello.txt")).read()
        'hi'
    """
    if not archive_format:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else [archive_format] if isinstance(archive_format, str) else list(archive_format)
    for fmt in formats:
        if fmt not in ("tar", "zip"):
            raise ValueError(f"get_file: `archive_format` must be 'auto', 'tar', 'zip', a list of those or None, got archive_format={archive_format!r}.")
    file_path, path = os.fspath(file_path), os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            opener = tarfile.open
        elif fmt == "zip" and zipfile.is_zipfile(file_path):
            opener = zipfile.ZipFile
        else:
            continue
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".partial", dir=parent)
        try:
            base = os.path.realpath(staging)
            with opener(file_path) as archive:
                if fmt == "tar":
                    _check_tar(archive, base, file_path)
                    archive.extractall(staging, filter="data")  # refuses what the checks missed, drops setuid bits
                else:
                    _check_zip(archive, base, file_path)
                    archive.extractall(staging)
            if os.path.lexists(path):
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
            os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return True
    return False


# --------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------
class DownloadError(ConnectionError):
    """A file could not be fetched (no network, HTTP error, interrupted);
    ``reason`` says why, in a few words."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


def _fetch(origin: str, target: str, file_hash: str | None, algorithm: str) -> None:
    """Stream ``origin`` to ``target`` through a temporary file, hashing as it
    goes; ``target`` changes only when the whole file arrived and matches."""
    hasher = hashlib.new(algorithm)
    print(f"Downloading data from {origin}", file=sys.stdout, flush=True)

    def offline(reason):
        return DownloadError(
            f"URL fetch failure on {origin}: {reason}. The file could not be saved to {target}. Without network, "
            f"download {origin} elsewhere and place it, unchanged, at that path.", reason)

    with atomic_write(target, "wb") as out:
        try:
            response = urlopen(origin, timeout=60)
        except urllib.error.HTTPError as e:
            raise offline(f"HTTP Error {e.code}: {e.reason}") from e
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            raise offline(getattr(e, "reason", None) or e) from e
        with response:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                    raise offline(f"download interrupted: {e}") from e
                if not chunk:
                    break
                hasher.update(chunk)
                out.write(chunk)
        got = hasher.hexdigest()
        if file_hash is not None and got != file_hash.lower():
            raise ValueError(
                f"Incomplete or corrupted file detected while downloading {origin} to {target}: its {algorithm} file "
                f"hash is {got}, expected {file_hash}. The download was discarded; "
                + ("the cached file there was left as it was." if os.path.exists(target) else "nothing was written."))


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """Download a file from a URL unless it is already in the cache.

    The file from ``origin`` is saved as ``<cache_dir>/<cache_subdir>/<fname>``
    (by default ``~/.keras/datasets/<fname>``, ``$KERAS_HOME`` replacing
    ``~/.keras``; ``<tmp>/.keras`` when that folder is not writable). A cached
    file is used as is unless ``file_hash`` is given and does not match (it
    is then downloaded again) or ``force_download``.

    Args:
        fname: the local file name; default: the last part of ``origin``'s
            path. With ``extract``, a name without an extension names the
            extraction folder (the archive is then ``<fname>_archive``); a
            name with one keeps the archive under that name and extracts to
            ``<stem>_extracted``.
        origin: the URL (``https://``, ``http://``, ``file://``...).
        untar: deprecated: ``extract=True, archive_format="tar"``.
        md5_hash: deprecated: ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: expected sha256 or md5 hex digest of the file.
        cache_subdir: sub-folder of the cache folder (an absolute path is
            used as is).
        hash_algorithm: ``"auto"`` (sha256 for 64 hex digits, else md5),
            ``"sha256"`` or ``"md5"``.
        extract: extract the archive (tar or zip) and return the folder.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or None.
        cache_dir: the cache folder (default ``$KERAS_HOME`` or ``~/.keras``).
        force_download: download even when a cached file is present.

    Returns:
        The path of the file, or of the extracted folder with ``extract``.

    Raises:
        ValueError: no ``origin``; ``fname`` is a path; the downloaded file's
            hash does not match (the download is discarded and a cached file
            is left untouched); an unsafe archive member.
        ConnectionError: (an ``OSError``) the file cannot be downloaded; the
            message names the URL and the cache path.

    Example:
        >>> import tempfile
        >>> src = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> _ = open(src, "w").write("hello")
        >>> cache = tempfile.mkdtemp()
        >>> path = get_file(origin="file://" + src, cache_dir=cache)  # doctest: +ELLIPSIS
        Downloading data from file://...notes.txt
        >>> os.path.relpath(path, cache), open(path).read()
        ('datasets/notes.txt', 'hello')
    """
    if origin is None:
        raise ValueError('get_file: please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _resolve_algorithm(hash_algorithm, file_hash)
    if file_hash is not None:
        file_hash = str(file_hash).lower()

    base = os.path.abspath(os.path.expanduser(os.fspath(cache_dir))) if cache_dir is not None else keras_home()
    datadir = os.path.join(base, cache_subdir)
    try:
        os.makedirs(datadir, exist_ok=True)
        writable = os.access(datadir, os.W_OK)
    except OSError:
        writable = False
    if not writable:  # as Keras: fall back to <tmp>/.keras
        datadir = os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)
        os.makedirs(datadir, exist_ok=True)

    given = fname is not None and os.fspath(fname) != ""
    fname = os.fspath(fname) if given else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"get_file: can't parse the file name from the origin provided: '{origin}'. Please specify the `fname` argument.")
    if os.sep in fname or (os.altsep and os.altsep in fname) or "/" in fname or fname in (".", ".."):
        raise ValueError("get_file: paths are no longer accepted as the `fname` argument. To specify the file's parent "
                         f"directory, use the `cache_dir` argument. Received: fname={fname}")

    extract = extract or untar
    if untar:
        archive_format = "tar"
    extraction_dir = None
    if extract:
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, fname[: fname.find(".")] + "_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, fname + "_archive")
    else:
        target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, algorithm):
        print(f"A local file was found at {target}, but it seems to be incomplete or outdated because the {algorithm} "
              f"file hash does not match the original value of {file_hash}, so the data is downloaded again.",
              file=sys.stdout, flush=True)
        download = True
    if download:
        _fetch(origin, target, file_hash, algorithm)

    if extract:
        if download or not os.path.isdir(extraction_dir):
            if not extract_archive(target, extraction_dir, archive_format):
                warnings.warn(f"get_file: could not extract the archive {target} (not a {archive_format} archive).", stacklevel=2)
        return extraction_dir
    return target
