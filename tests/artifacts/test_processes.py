"""Stores across processes: a writer killed mid-write leaves no partial object, a pickled store works elsewhere.

Real subprocesses (the same interpreter), a local folder and fsspec's file://.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypersweep.artifacts import ArtifactNotFound, ArtifactStore, FsspecArtifactStore, LocalArtifactStore
from hypersweep.artifacts.base import TEMP_PREFIX

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Writes 8 MiB of a big object, says so (the marker file), then hangs until it is killed.
WRITER = r"""
import io, pickle, sys, time
store = pickle.loads(sys.stdin.buffer.read())
marker = sys.argv[1]

class Source(io.RawIOBase):
    sent = 0
    def readable(self):
        return True
    def readinto(self, buffer):
        if self.sent >= 8 << 20:
            open(marker, "w").close()
            time.sleep(120)
        n = min(len(buffer), 1 << 16)
        buffer[:n] = b"n" * n
        self.sent += n
        return n

store.write("3/model", Source())
"""

USER = r"""
import pickle, sys
store = pickle.loads(sys.stdin.buffer.read())
with store.open("in") as f:
    data = f.read()
print(store.write("out", data[::-1])[0], store.list())
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def make_store(tmp_path: Path, kind: str) -> ArtifactStore:
    if kind == "local":
        return LocalArtifactStore(tmp_path / "local")
    return FsspecArtifactStore((tmp_path / "fsspec").as_uri())


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
@pytest.mark.parametrize("previous", [None, b"version 1"])
def test_a_writer_killed_mid_write_leaves_the_old_version_or_nothing(
    tmp_path: Path, kind: str, previous: bytes | None
) -> None:
    store = make_store(tmp_path, kind)
    root = tmp_path / ("local" if kind == "local" else "fsspec")
    if previous is not None:
        store.write("3/model", previous)
    marker = tmp_path / "halfway"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(marker)], stdin=subprocess.PIPE, env=env(), stderr=subprocess.PIPE
    )
    child.stdin.write(pickle.dumps(store))  # type: ignore[union-attr]
    child.stdin.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the writer never got halfway"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()  # type: ignore[union-attr]

    leftovers = temporaries(root)
    assert len(leftovers) == 1 and leftovers[0].stat().st_size >= 8 << 20  # it was killed mid-write
    assert store.list() == ([] if previous is None else ["3/model"])
    if previous is None:
        with pytest.raises(ArtifactNotFound):
            store.open("3/model")
    else:
        with store.open("3/model") as f:
            assert f.read() == previous
    store.write("3/model", b"version 2")  # the store keeps working
    assert store.list() == ["3/model"]


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
def test_a_pickled_store_works_in_another_process(tmp_path: Path, kind: str) -> None:
    store = make_store(tmp_path, kind)
    store.write("in", b"abc")
    out = subprocess.run(
        [sys.executable, "-c", USER], input=pickle.dumps(store), capture_output=True, env=env(), check=True,
        cwd=tmp_path.parent,  # another working directory: the url is absolute
    )
    assert out.stdout.decode().strip() == "3 ['in', 'out']"
    with store.open("out") as f:
        assert f.read() == b"cba"
