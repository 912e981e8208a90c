"""save_object / load_object: every format round trips, checksums catch corruption, files restore once.

scikit-learn, numpy, plain data, lambdas, __main__ classes, files, folders (torch: test_torch_checkpoints.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from hypersweep._validation import InvalidParameterError
from hypersweep.artifacts import (
    FORMATS,
    ArtifactCorrupted,
    ArtifactNotFound,
    ArtifactStore,
    LocalArtifactStore,
    detect_format,
    load_object,
    save_object,
)

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def round_trip(store: ArtifactStore, obj: object, cache: Path, expected_format: str, **kw: object) -> object:
    size, checksum, fmt = save_object(store, "7/obj", obj, **kw)  # type: ignore[arg-type]
    assert fmt == expected_format
    with store.open("7/obj") as f:
        assert len(f.read()) == size
    assert checksum.startswith("sha256:") and len(checksum) == 7 + 64
    verified = load_object(store, "7/obj", fmt, checksum, cache_dir=cache)
    unverified = load_object(store, "7/obj", fmt, cache_dir=cache)
    assert type(verified) is type(unverified)
    return verified


# --- scikit-learn, numpy, pickles -----------------------------------------------------------------------------


def test_a_fitted_sklearn_estimator(store: ArtifactStore, cache: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=80, random_state=0)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    loaded = round_trip(store, forest, cache, "joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), forest.predict_proba(X))


def test_a_numpy_array(store: ArtifactStore, cache: Path) -> None:
    array = np.random.default_rng(0).normal(size=(300, 300))
    loaded = round_trip(store, array, cache, "joblib")
    np.testing.assert_array_equal(loaded, array)
    with store.open("7/obj") as f:
        assert len(f.read()) < array.nbytes + 1000  # raw buffer, no pickle overhead


def test_a_lambda_and_a_local_function(store: ArtifactStore, cache: Path) -> None:
    offset = 10

    def shifted(x: int) -> int:
        return x + offset

    assert round_trip(store, lambda x: x * 3, cache, "cloudpickle")(2) == 6  # type: ignore[operator]
    loaded = round_trip(store, {"f": shifted, "data": np.ones(3)}, cache, "cloudpickle")
    assert loaded["f"](1) == 11 and loaded["data"].sum() == 3  # type: ignore[index]


def test_a_class_defined_in_main_is_saved_by_value(tmp_path: Path) -> None:
    script = (
        "import sys; from hypersweep.artifacts import LocalArtifactStore, save_object\n"
        "class Point:\n    def __init__(self, x): self.x = x\n"
        f"print(save_object(LocalArtifactStore({str(tmp_path)!r}), 'p', Point(4))[2])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": SRC}, check=True)
    assert out.stdout.strip() == "cloudpickle"
    point = load_object(LocalArtifactStore(tmp_path), "p", "cloudpickle")
    assert type(point).__name__ == "Point" and point.x == 4


def test_detect_format(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    (tmp_path / "f").write_bytes(b"")
    assert detect_format(tmp_path / "f") == "file" and detect_format(str(tmp_path)) == "directory"
    assert detect_format(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])) == "joblib"
    assert detect_format([np.zeros(2), {"a": 1}]) == "joblib"
    assert detect_format([1, {"f": lambda: 0}]) == "cloudpickle"
    assert detect_format(len) == "joblib"  # a builtin: importable by name


def test_plain_data_and_forced_formats(store: ArtifactStore, cache: Path) -> None:
    assert round_trip(store, {"lr": 0.1, "layers": [64, 64]}, cache, "joblib") == {"lr": 0.1, "layers": [64, 64]}
    assert round_trip(store, [1, "a"], cache, "pickle", format="pickle") == [1, "a"]
    assert round_trip(store, "just a string", cache, "joblib", format="joblib") == "just a string"
    with pytest.raises(InvalidParameterError, match="format must be one of"):
        save_object(store, "k", 1, format="yaml")
    with pytest.raises(InvalidParameterError, match="format must be one of"):
        load_object(store, "k", "yaml")


def test_an_object_nothing_can_pickle_says_what_to_do(store: ArtifactStore) -> None:
    import threading

    with pytest.raises(TypeError, match=r"cannot save dict .* under key 'k'.*state_dict"):
        save_object(store, "k", {"lock": threading.Lock()})
    assert store.list() == []


# --- files and folders -----------------------------------------------------------------------------------------


def test_a_file(store: ArtifactStore, tmp_path: Path, cache: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(3 << 20))
    for obj in (source, str(source)):
        path = round_trip(store, obj, cache, "file")
        assert isinstance(path, Path) and path.read_bytes() == source.read_bytes()
        assert path.name == "obj"  # named after the key's last segment
        assert cache in path.parents


def test_a_folder(store: ArtifactStore, tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "run"
    (folder / "logs" / "empty").mkdir(parents=True)
    (folder / "model.pt").write_bytes(b"weights")
    (folder / "logs" / "events.txt").write_text("epoch 1\n")
    os.symlink("model.pt", folder / "latest")
    path = round_trip(store, folder, cache, "directory")
    assert isinstance(path, Path) and path.is_dir()
    assert sorted(str(p.relative_to(path)) for p in path.rglob("*")) == [
        "latest", "logs", "logs/empty", "logs/events.txt", "model.pt",
    ]
    assert (path / "latest").is_symlink() and (path / "latest").read_bytes() == b"weights"
    assert (path / "logs" / "events.txt").read_text() == "epoch 1\n"


def test_loading_a_file_twice_copies_it_once(tmp_path: Path, cache: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    (tmp_path / "f").write_bytes(b"data")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"x")
    for key, obj in (("3/f.bin", tmp_path / "f"), ("3/d", tmp_path / "d")):
        _, checksum, fmt = save_object(store, key, obj)
        first = load_object(store, key, fmt, checksum, cache_dir=cache)
        store.remove(key)  # the second load must not need the store at all
        assert load_object(store, key, fmt, checksum, cache_dir=cache) == first
        assert first == cache / checksum.removeprefix("sha256:") / key.rsplit("/", 1)[1]
        with pytest.raises(ArtifactNotFound):  # without a checksum there is no telling which copy: read again
            load_object(store, key, fmt, cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir())[0] != ".hs-tmp"  # no staging folder left behind
    assert not [p for p in cache.rglob("*") if p.name.startswith(".hs-tmp-")]


def test_the_same_bytes_under_two_names_restore_to_both(tmp_path: Path, cache: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    (tmp_path / "f").write_bytes(b"same")
    _, checksum, _ = save_object(store, "a/first", tmp_path / "f")
    save_object(store, "b/second", tmp_path / "f")
    assert load_object(store, "a/first", "file", checksum, cache_dir=cache).name == "first"
    assert load_object(store, "b/second", "file", checksum, cache_dir=cache).read_bytes() == b"same"


def test_default_cache_dir_is_used(tmp_path: Path) -> None:
    from hypersweep.artifacts import default_cache_dir

    store = LocalArtifactStore(tmp_path)
    (tmp_path / "src.txt").write_bytes(uuid.uuid4().bytes)
    _, checksum, _ = save_object(store, "k/unique.txt", tmp_path / "src.txt")
    path = load_object(store, "k/unique.txt", "file", checksum)
    try:
        assert default_cache_dir() in path.parents and path.read_bytes() == (tmp_path / "src.txt").read_bytes()
    finally:
        path.unlink()
        path.parent.rmdir()


def test_a_missing_path_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"names no existing file or folder.*format='joblib'"):
        save_object(store, "k", str(tmp_path / "typo.txt"))
    with pytest.raises(FileNotFoundError, match="not an existing folder"):
        save_object(store, "k", tmp_path / "typo", format="directory")
    with pytest.raises(InvalidParameterError, match="obj must be a path"):
        save_object(store, "k", 3, format="file")


# --- checksums ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["joblib", "cloudpickle", "pickle", "file", "directory"])
def test_a_checksum_mismatch_is_detected(tmp_path: Path, cache: Path, format: str) -> None:
    assert format in FORMATS
    store = LocalArtifactStore(tmp_path / "store")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"x" * 1000)
    obj = {
        "joblib": np.arange(100), "cloudpickle": lambda: 1, "pickle": [1, 2],
        "file": tmp_path / "d" / "x", "directory": tmp_path / "d",
    }[format]
    _, checksum, fmt = save_object(store, "7/model", obj, format=format)
    path = tmp_path / "store" / "7" / "model"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted) as info:
        load_object(store, "7/model", fmt, checksum, cache_dir=cache)
    message = str(info.value)
    assert "'7/model'" in message and checksum in message and info.value.found in message
    assert info.value.expected == checksum and info.value.found != checksum
    assert "Save it again" in message
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]  # nothing corrupt cached


def test_a_bad_checksum_argument_is_refused(store: ArtifactStore) -> None:
    save_object(store, "k", 1)
    with pytest.raises(InvalidParameterError, match="checksum must be None or 'sha256:'"):
        load_object(store, "k", "joblib", "md5:abc")
