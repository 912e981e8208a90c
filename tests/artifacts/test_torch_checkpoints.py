"""Torch checkpoints through save_object / load_object: state dicts, whole modules, optimizers, checksums.

A module whose class lives in a script loads in another process; torch is never imported just to pick a format.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hypersweep.artifacts import (
    ArtifactCorrupted,
    ArtifactStore,
    LocalArtifactStore,
    detect_format,
    load_object,
    save_object,
)

torch = pytest.importorskip("torch")

SRC = str(Path(__file__).resolve().parents[2] / "src")


def round_trip(store: ArtifactStore, obj: object) -> object:
    size, checksum, fmt = save_object(store, "7/checkpoint-3", obj)
    assert fmt == "torch"
    verified = load_object(store, "7/checkpoint-3", fmt, checksum)
    unverified = load_object(store, "7/checkpoint-3", fmt)
    assert type(verified) is type(unverified)
    return verified




def small_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def test_torch_state_dict_checkpoint(store: ArtifactStore) -> None:
    net = small_net()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    checkpoint = {"model": net.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}
    loaded = round_trip(store, checkpoint)
    assert loaded["epoch"] == 3
    fresh = small_net()
    fresh.load_state_dict(loaded["model"])
    x = torch.randn(5, 4)
    assert torch.equal(fresh(x), net(x))
    assert loaded["optimizer"]["param_groups"][0]["lr"] == 0.01
    assert torch.equal(loaded["optimizer"]["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])


def test_a_whole_torch_module_and_tensors(store: ArtifactStore) -> None:
    net = small_net()
    loaded = round_trip(store, net)
    x = torch.randn(2, 4)
    assert isinstance(loaded, torch.nn.Sequential) and torch.equal(loaded(x), net(x))
    assert torch.equal(round_trip(store, torch.arange(6.0)), torch.arange(6.0))
    assert detect_format([1, (2, {"t": torch.zeros(1)})]) == "torch"
    assert detect_format(torch.optim.SGD(net.parameters(), lr=0.1)) == "torch"


NET_SCRIPT = r"""
import pickle, sys
import torch
from hypersweep.artifacts import LocalArtifactStore, load_object, save_object

class Net(torch.nn.Module):  # defined in __main__: plain pickle would save it by a name nobody else has
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.scale = lambda x: 2 * x
    def forward(self, x):
        return self.scale(self.layer(x))

store = LocalArtifactStore(sys.argv[1])
if sys.argv[2] == "save":
    torch.manual_seed(0)
    print(save_object(store, "net", Net())[2])
else:
    net = load_object(store, "net", "torch")
    with torch.no_grad():
        print(type(net).__name__, float(net(torch.ones(1, 2))))
"""


def test_a_module_defined_in_a_script_loads_in_another_process(tmp_path: Path) -> None:
    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", NET_SCRIPT, str(tmp_path), *args], capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": SRC}, check=True,
        ).stdout.strip()

    assert run("save") == "torch"
    torch.manual_seed(0)
    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():
        assert run("load") == f"Net {2 * float(layer(torch.ones(1, 2)))}"


def test_torch_is_never_imported_to_detect_a_format() -> None:
    code = (
        "import sys; from hypersweep.artifacts import detect_format; "
        "print(detect_format({'model': [1.0], 'epoch': 3}), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": SRC}, check=True)
    assert out.stdout.strip() == "joblib False"


def test_a_corrupted_torch_checkpoint_is_detected_before_unpickling(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    _, checksum, fmt = save_object(store, "7/model", {"w": torch.zeros(1000)})
    path = tmp_path / "7" / "model"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted, match="'7/model'"):
        load_object(store, "7/model", fmt, checksum)
