"""The artifact store contract, run against every store hypersweep ships.

A local folder, fsspec's memory:// and fsspec's file://; plus `get_artifact_store` and key validation.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersweep._validation import InvalidParameterError
from hypersweep.artifacts import (
    ArtifactNotFound,
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    MemoryArtifactStore,
    get_artifact_store,
)
from hypersweep.artifacts.base import TEMP_PREFIX, check_key


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["local", "local-no-fsync", "memory", "fsspec-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield LocalArtifactStore(tmp_path / "not" / "yet" / "there")
    elif request.param == "local-no-fsync":
        yield LocalArtifactStore(tmp_path / "fast", fsync=False)
    elif request.param == "memory":
        url = f"memory://artifacts-{uuid.uuid4().hex}"
        memory = FsspecArtifactStore(url)
        yield memory
        if memory.fs.exists(memory._root):
            memory.fs.rm(memory._root, recursive=True)
    else:
        yield FsspecArtifactStore((tmp_path / "fs").as_uri())


class FailingSource(io.RawIOBase):
    """A binary source that gives ``good`` bytes, then raises: a writer dying mid-write."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            raise OSError("the source died halfway")
        n = min(len(buffer), self.left, 1000)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def all_names(store: ArtifactStore) -> list[str]:
    """Every file under the store's root, temporary ones included."""
    if isinstance(store, LocalArtifactStore):
        return [str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file()]
    root = store._root  # type: ignore[attr-defined]
    return [path[len(root) + 1 :] for path in store.fs.find(root)]  # type: ignore[attr-defined]


# --- write / open / remove / list -------------------------------------------------------------------------


def test_write_returns_size_and_checksum(store: ArtifactStore) -> None:
    assert store.write("0/a", b"hello") == (5, sha(b"hello"))
    with store.open("0/a") as f:
        assert f.read() == b"hello"


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "file", "empty"])
def test_write_accepts_bytes_like_and_binary_files(store: ArtifactStore, kind: str) -> None:
    payload = b"" if kind == "empty" else os.urandom(3 << 20)  # several chunks
    data = {
        "bytes": payload, "bytearray": bytearray(payload), "memoryview": memoryview(payload),
        "file": io.BytesIO(payload), "empty": b"",
    }[kind]
    assert store.write("k", data) == (len(payload), sha(payload))
    with store.open("k") as f:
        assert f.read() == payload


def test_write_counts_bytes_of_any_memoryview(store: ArtifactStore) -> None:
    import array

    numbers = array.array("i", range(1000))
    assert store.write("k", memoryview(numbers)) == (len(numbers.tobytes()), sha(numbers.tobytes()))
    with store.open("k") as f:
        assert f.read() == numbers.tobytes()


def test_write_refuses_text_and_other_data(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with open(tmp_path / "notes.txt") as text, pytest.raises(InvalidParameterError, match=r"open\(path, 'rb'\)"):
        store.write("k", text)
    with pytest.raises(InvalidParameterError, match="data must be bytes or a binary file object"):
        store.write("k", "a string")  # type: ignore[arg-type]
    assert store.list() == [] and all_names(store) == []


def test_write_replaces_the_previous_object(store: ArtifactStore) -> None:
    store.write("a/b", b"old")
    store.write("a/b", b"new and longer")
    with store.open("a/b") as f:
        assert f.read() == b"new and longer"
    assert store.list() == ["a/b"]


def test_open_a_missing_key_names_the_key_and_the_store(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound, match=r"'3/missing'") as info:
        store.open("3/missing")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.key == "3/missing" and info.value.store == store.url
    assert store.url in str(info.value)
    store.write("3/there", b"x")
    with pytest.raises(ArtifactNotFound):
        store.open("3")  # a folder of keys is not an object


def test_remove_and_a_missing_key_is_fine(store: ArtifactStore) -> None:
    store.write("1/a", b"x")
    store.write("1/b", b"y")
    store.remove("1/a")
    store.remove("1/a")
    store.remove("never/written")
    store.remove("1")  # a folder: nothing happens
    assert store.list() == ["1/b"]
    store.remove("1/b")
    assert store.list() == []


def test_list_is_sorted_and_filters_by_prefix(store: ArtifactStore) -> None:
    assert store.list() == []  # nothing written yet: the root may not even exist
    for key in ["b/2", "a", "b/10", "b1/x", "c/d/e"]:
        store.write(key, key.encode())
    assert store.list() == ["a", "b/10", "b/2", "b1/x", "c/d/e"]
    assert store.list("b/") == ["b/10", "b/2"]
    assert store.list("b") == ["b/10", "b/2", "b1/x"]  # a plain string prefix, as object stores use
    assert store.list("b/1") == ["b/10"]
    assert store.list("c/d/") == ["c/d/e"]
    assert store.list("nothing/") == []
    assert store.list("a/") == []  # "a" is an object, not a folder


def test_local_store_removes_folders_left_empty(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.write("1/deep/er/a", b"x")
    store.write("1/b", b"x")
    store.remove("1/deep/er/a")
    assert sorted(p.name for p in (tmp_path / "root").rglob("*")) == ["1", "b"]
    store.remove("1/b")
    assert list((tmp_path / "root").iterdir()) == []  # the root stays


def test_local_store_files_get_ordinary_permissions(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.write("a", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o666 & ~umask


# --- atomicity ----------------------------------------------------------------------------------------------


def test_a_source_that_dies_mid_write_leaves_no_object_and_no_temporary(store: ArtifactStore) -> None:
    with pytest.raises(OSError, match="halfway"):
        store.write("0/model", FailingSource(good=50_000))
    assert store.list() == []
    assert all_names(store) == []
    with pytest.raises(ArtifactNotFound):
        store.open("0/model")


def test_a_source_that_dies_mid_write_keeps_the_previous_version(store: ArtifactStore) -> None:
    store.write("0/model", b"version 1")
    with pytest.raises(OSError, match="halfway"):
        store.write("0/model", FailingSource(good=50_000))
    with store.open("0/model") as f:
        assert f.read() == b"version 1"
    assert all_names(store) == ["0/model"]


def test_readers_see_whole_objects_while_writers_replace_them(store: ArtifactStore) -> None:
    import threading

    versions = [bytes([i]) * (200_000 + 1000 * i) for i in range(6)]
    store.write("hot", versions[0])
    stop = threading.Event()
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def write(payload: bytes) -> None:
        try:
            for _ in range(5):
                store.write("hot", io.BytesIO(payload))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        while not stop.is_set():
            with store.open("hot") as f:
                seen.append(f.read())

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(v,)) for v in versions]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert not errors and seen
    assert all(data in versions for data in seen), "a reader saw a partial or mixed object"
    assert store.list() == ["hot"] and all_names(store) == ["hot"]


def test_temporary_objects_are_never_listed(store: ArtifactStore) -> None:
    store.write("0/model", b"x")
    # what a writer killed mid-write leaves behind
    if isinstance(store, LocalArtifactStore):
        (store.root / "0" / f"{TEMP_PREFIX}0123abcd").write_bytes(b"partial")
    else:
        with store.fs.open(f"{store._root}/0/{TEMP_PREFIX}0123abcd", "wb") as f:  # type: ignore[attr-defined]
            f.write(b"partial")
    assert store.list() == ["0/model"]
    assert store.list("0/") == ["0/model"]


def test_store_errors_pickle() -> None:
    from hypersweep.artifacts import ArtifactCorrupted

    for error in (ArtifactNotFound("k", "/s"), ArtifactCorrupted("k", "/s", "sha256:a", "sha256:b")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and copy.key == "k"


# --- keys ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, why",
    [
        ("", "not empty"),
        ("/etc/passwd", "relative"),
        ("a//b", "no empty"),
        ("a/", "no empty"),
        ("./a", r"'\.'"),
        ("a/../../b", r"'\.\.'"),
        ("..", r"'\.\.'"),
        ("a\\b", "backslash"),
        (f"a/{TEMP_PREFIX}x", "temporary"),
        (3, "a str"),
        (None, "a str"),
    ],
)
def test_bad_keys_are_refused_with_a_clear_error(store: ArtifactStore, key: object, why: str) -> None:
    for operation in (lambda: store.write(key, b"x"), lambda: store.open(key), lambda: store.remove(key)):  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterError, match=why) as info:
            operation()
        assert f"key={key!r}" in str(info.value)
    assert store.list() == []


def test_check_key_accepts_ordinary_keys() -> None:
    for key in ["a", "0-s/5/checkpoint-3", "a/b.c/.hidden", "x/..y", "trial 3/model.pt"]:
        assert check_key(key) == key


@pytest.mark.parametrize("prefix", ["/a", "../", "a/../b", "a//"])
def test_bad_prefixes_are_refused(store: ArtifactStore, prefix: str) -> None:
    with pytest.raises(InvalidParameterError, match="prefix="):
        store.list(prefix)


# --- url, pickling, get_artifact_store ------------------------------------------------------------------------


def test_a_store_pickles_as_its_url(store: ArtifactStore) -> None:
    store.write("k", b"v")
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and type(copy) is type(store) and copy.url == store.url
    assert len(pickle.dumps(store)) < 300 + len(store.url)
    with copy.open("k") as f:
        assert f.read() == b"v"


def test_url_rebuilds_the_same_store(store: ArtifactStore) -> None:
    store.write("k", b"v")
    again = get_artifact_store(store.url)
    assert again.list() == ["k"]


def test_fsspec_store_pickles_its_storage_options() -> None:
    store = FsspecArtifactStore("memory://with-options", skip_instance_cache=True)
    copy = pickle.loads(pickle.dumps(store))
    assert copy.storage_options == {"skip_instance_cache": True} and copy == store


def test_get_artifact_store_resolves_paths_urls_and_stores(tmp_path: Path) -> None:
    local = get_artifact_store(tmp_path)
    assert isinstance(local, LocalArtifactStore) and local.root == tmp_path
    assert get_artifact_store(str(tmp_path)) == local
    assert get_artifact_store(tmp_path.as_uri()) == local
    assert get_artifact_store(f"file://{tmp_path}") == local
    assert get_artifact_store(local) is local
    relative = get_artifact_store("relative/folder")
    assert isinstance(relative, LocalArtifactStore) and relative.root == Path.cwd() / "relative" / "folder"
    assert not (Path.cwd() / "relative").exists()  # made on the first write, not before
    memory = get_artifact_store("memory://resolved")
    assert isinstance(memory, FsspecArtifactStore) and memory.url == "memory://resolved"
    chained = get_artifact_store(f"simplecache::{tmp_path.as_uri()}")
    assert isinstance(chained, FsspecArtifactStore)


@pytest.mark.parametrize("spec", [None, 3, b"/tmp/x", "", ["a"]])
def test_get_artifact_store_refuses_anything_else(spec: object) -> None:
    with pytest.raises(TypeError, match=r"artifact_store must be a folder path, a URL .* or an ArtifactStore"):
        get_artifact_store(spec)


def test_an_unknown_protocol_says_so() -> None:
    with pytest.raises(ValueError, match="nosuchproto"):
        get_artifact_store("nosuchproto://bucket/x")


def test_importing_the_package_does_not_import_fsspec_torch_or_joblib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hypersweep.artifacts as a; a.get_artifact_store('x'); "
        "print(sorted(m for m in ('fsspec', 'torch', 'joblib', 'cloudpickle') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert out.stdout.strip() == "[]"


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_the_in_process_store_keeps_the_contract_but_stays_in_its_process() -> None:
    store = MemoryArtifactStore()
    assert store.write("0/a", b"one") == (3, sha(b"one"))
    store.write("0/a", io.BytesIO(b"two"))
    store.write("1/b", b"")
    assert store.list() == ["0/a", "1/b"] and store.list("1/") == ["1/b"]
    assert store.open("0/a").read() == b"two"
    store.remove("0/a")
    store.remove("0/a")  # a missing key is fine
    with pytest.raises(ArtifactNotFound, match="'0/a'"):
        store.open("0/a")
    with pytest.raises(ValueError):
        store.write("../escape", b"x")
    with pytest.raises(TypeError, match="cannot be sent to another"):
        pickle.dumps(store)
    with pytest.raises(OSError, match="halfway"):
        store.write("1/b", FailingSource(good=10))
    assert store.open("1/b").read() == b""  # the previous version is intact
