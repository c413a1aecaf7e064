"""kerasish.utils.file_utils.get_file: cache layout, hashes, atomic downloads,
offline errors and safe extraction. No internet: file:// origins and a local
http.server on 127.0.0.1; Keras's get_file is the oracle for the paths."""

import functools
import hashlib
import http.server
import io
import os
import tarfile
import threading
import urllib.error
import zipfile

import pytest

from kerasish.utils import file_utils
from kerasish.utils.file_utils import extract_archive, get_file


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def src(tmp_path):
    """A 'remote' folder with a data file, a tar.gz and a zip."""
    folder = tmp_path / "remote"
    folder.mkdir()
    (folder / "data.bin").write_bytes(b"hello world" * 100)
    with tarfile.open(folder / "pack.tar.gz", "w:gz") as tar:
        for name, data in {"pack/a.txt": b"A", "pack/sub/b.txt": b"BB"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(folder / "pack.zip", "w") as z:
        z.writestr("pack/a.txt", "A")
        z.writestr("pack/sub/b.txt", "BB")
    return folder


@pytest.fixture
def calls(monkeypatch):
    """Counts the downloads (the real urlopen still runs)."""
    seen = []
    real = file_utils.urlopen
    monkeypatch.setattr(file_utils, "urlopen", lambda url, timeout=None: seen.append(url) or real(url, timeout=timeout))
    return seen


def test_download_cache_and_fname_from_origin(src, tmp_path, calls):
    cache = tmp_path / "cache"
    data = (src / "data.bin").read_bytes()
    path = get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(cache), file_hash=sha256(data))
    assert path == str(cache / "datasets" / "data.bin") and open(path, "rb").read() == data
    assert get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(cache), file_hash=sha256(data)) == path
    assert len(calls) == 1  # the second call used the cache
    assert os.listdir(cache / "datasets") == ["data.bin"]  # no temporary file left
    other = get_file("renamed.bin", (src / "data.bin").as_uri(), cache_dir=str(cache), cache_subdir="models")
    assert other == str(cache / "models" / "renamed.bin")
    get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(cache), force_download=True)
    assert len(calls) == 3


def test_keras_home_default(src, tmp_path, monkeypatch, calls):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    path = get_file(origin=(src / "data.bin").as_uri())
    assert path == str(tmp_path / "kh" / "datasets" / "data.bin")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert file_utils.keras_home() == str(tmp_path / "home" / ".keras")


@pytest.mark.parametrize("kwargs", [
    lambda d: {"file_hash": sha256(d)},
    lambda d: {"file_hash": md5(d)},  # auto: 32 hex digits is md5
    lambda d: {"file_hash": md5(d).upper(), "hash_algorithm": "md5"},
    lambda d: {"md5_hash": md5(d)},  # the deprecated argument
])
def test_hash_forms_accept_the_right_file(src, tmp_path, kwargs, calls):
    data = (src / "data.bin").read_bytes()
    path = get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(tmp_path / "c"), **kwargs(data))
    assert open(path, "rb").read() == data
    get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(tmp_path / "c"), **kwargs(data))
    assert len(calls) == 1


def test_stale_cached_file_is_downloaded_again(src, tmp_path, calls, capsys):
    data = (src / "data.bin").read_bytes()
    target = tmp_path / "c" / "datasets" / "data.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(tmp_path / "c"), file_hash=sha256(data))
    assert target.read_bytes() == data and len(calls) == 1
    assert "hash does not match" in capsys.readouterr().out


def test_wrong_hash_discards_the_download_and_keeps_the_cached_file(src, tmp_path, calls):
    data = (src / "data.bin").read_bytes()
    folder = tmp_path / "c" / "datasets"
    with pytest.raises(ValueError) as e:
        get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(tmp_path / "c"), file_hash="0" * 64)
    msg = str(e.value)
    assert "0" * 64 in msg and sha256(data) in msg and str(folder / "data.bin") in msg
    assert os.listdir(folder) == []  # nothing partial left
    # A cached copy is not replaced by a download that fails its check.
    (folder / "data.bin").write_bytes(b"cached")
    with pytest.raises(ValueError, match="left as it was"):
        get_file(origin=(src / "data.bin").as_uri(), cache_dir=str(tmp_path / "c"), file_hash=md5(b"other"))
    assert (folder / "data.bin").read_bytes() == b"cached" and os.listdir(folder) == ["data.bin"]


def test_offline_error_names_url_and_cache_path(tmp_path, monkeypatch):
    def no_network(url, timeout=None):
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(file_utils, "urlopen", no_network)
    url = "https://example.invalid/files/weights.h5"
    with pytest.raises(OSError) as e:
        get_file(origin=url, cache_dir=str(tmp_path))
    target = str(tmp_path / "datasets" / "weights.h5")
    assert url in str(e.value) and target in str(e.value) and "no network here" in str(e.value)
    assert os.listdir(tmp_path / "datasets") == []


def test_unreachable_local_server_is_an_oserror(tmp_path):
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
        get_file(origin=f"http://127.0.0.1:{port}/x.bin", cache_dir=str(tmp_path))


def test_download_over_local_http_server(src, tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(src))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        data = (src / "data.bin").read_bytes()
        path = get_file(origin=url + "data.bin", cache_dir=str(tmp_path), file_hash=sha256(data))
        assert open(path, "rb").read() == data
        folder = get_file("pack", url + "pack.zip", cache_dir=str(tmp_path), extract=True)
        assert open(os.path.join(folder, "pack", "sub", "b.txt")).read() == "BB"
        with pytest.raises(OSError, match="404"):
            get_file(origin=url + "missing.bin", cache_dir=str(tmp_path))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("archive", ["pack.tar.gz", "pack.zip"])
@pytest.mark.parametrize("fname", [None, "pack", "pack.tar.gz"])
def test_extract_paths_and_contents_match_keras(src, tmp_path, keras, archive, fname):
    import warnings

    origin = (src / archive).as_uri()
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that does not exist yet
    ours = get_file(fname, origin, extract=True, cache_dir=str(tmp_path / "ours"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.utils.get_file(fname, origin, extract=True, cache_dir=str(tmp_path / "keras"))
    assert os.path.relpath(ours, tmp_path / "ours") == os.path.relpath(theirs, tmp_path / "keras")

    def tree(root):
        return sorted((os.path.relpath(os.path.join(d, f), root), open(os.path.join(d, f), "rb").read())
                      for d, _, files in os.walk(root) for f in files)

    assert tree(ours) == tree(theirs) and tree(ours)
    assert sorted(os.listdir(tmp_path / "ours" / "datasets")) == sorted(os.listdir(tmp_path / "keras" / "datasets"))


def test_untar_and_re_extraction(src, tmp_path, calls):
    folder = get_file("pack", (src / "pack.tar.gz").as_uri(), untar=True, cache_dir=str(tmp_path))
    assert open(os.path.join(folder, "pack", "a.txt")).read() == "A"
    os.remove(os.path.join(folder, "pack", "a.txt"))
    get_file("pack", (src / "pack.tar.gz").as_uri(), untar=True, cache_dir=str(tmp_path))
    assert len(calls) == 1  # cached archive, existing folder: nothing redone
    import shutil

    shutil.rmtree(folder)
    get_file("pack", (src / "pack.tar.gz").as_uri(), untar=True, cache_dir=str(tmp_path))
    assert open(os.path.join(folder, "pack", "a.txt")).read() == "A" and len(calls) == 1


def _evil_tar(path, member):
    with tarfile.open(path, "w:gz") as tar:
        good = tarfile.TarInfo("ok.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        tar.addfile(member, io.BytesIO(b"pwned") if member.isfile() else None)


def _file(name):
    info = tarfile.TarInfo(name)
    info.size = 5
    return info


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("member", [
    _file("../escape.txt"), _file("a/../../escape.txt"), _file("/tmp/kerasish_abs_escape.txt"),
    _link("link", "../.."), _link("link", "/etc/passwd"), _link("hard", "../outside.txt", tarfile.LNKTYPE),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink-up", "symlink-abs", "hardlink-up"])
def test_malicious_tar_members_are_refused(tmp_path, member):
    archive = tmp_path / "evil.tar.gz"
    _evil_tar(archive, member)
    out = tmp_path / "box" / "out"
    with pytest.raises(ValueError, match=f"Refusing to extract.*{member.name!r}"):
        extract_archive(str(archive), str(out))
    assert not out.exists() and os.listdir(tmp_path / "box") == []  # nothing extracted, no staging left
    assert not (tmp_path / "escape.txt").exists() and not os.path.exists("/tmp/kerasish_abs_escape.txt")


@pytest.mark.parametrize("name", ["../escape.txt", "/abs_escape.txt"])
def test_malicious_zip_member_is_refused_through_get_file(tmp_path, name):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ok.txt", "ok")
        z.writestr(zipfile.ZipInfo(name), "pwned")
    with pytest.raises(ValueError, match="Refusing to extract"):
        get_file("evil.zip", archive.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "c" / "datasets" / "evil_extracted").exists()
    assert not (tmp_path / "c" / "escape.txt").exists()


def test_links_inside_the_folder_are_kept(tmp_path):
    archive = tmp_path / "ok.tar"
    with tarfile.open(archive, "w") as tar:
        info = _file("d/real.txt")
        tar.addfile(info, io.BytesIO(b"hello"))
        tar.addfile(_link("d/alias.txt", "real.txt"))
    assert extract_archive(str(archive), str(tmp_path / "out"), "tar")
    assert open(tmp_path / "out" / "d" / "alias.txt").read() == "hello"
    assert not extract_archive(str(archive), str(tmp_path / "out2"), "zip")  # not a zip
    assert not extract_archive(str(archive), str(tmp_path / "out3"), None)


def test_bad_arguments():
    with pytest.raises(ValueError, match="origin"):
        get_file("x.bin")
    with pytest.raises(ValueError, match="fname=sub/x.bin"):
        get_file("sub/x.bin", "file:///x.bin")
    with pytest.raises(ValueError, match="hash_algorithm='sha1'"):
        get_file("x.bin", "file:///x.bin", file_hash="ab", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="can't parse the file name"):
        get_file(origin="https://example.invalid/")
    with pytest.raises(ValueError, match="archive_format='rar'"):
        extract_archive("x", "y", "rar")
