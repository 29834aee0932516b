"""Shared fixtures: paths to ../shared, and exported projects reused across tests (g++ is slow)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PEERS = SHARED / "peer-models"

if not PEERS.is_dir():  # pragma: no cover - the workplace always lays shared/ beside the repo
    raise RuntimeError(f"peer models not found at {PEERS}: tests need ../shared beside the repository")


def peer(name: str, weights: str | None = None):
    """(json, weights) paths of a peer model."""
    return PEERS / f"{name}.json", PEERS / f"{weights or name + '_weights'}.h5"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hcp")


@pytest.fixture(scope="session")
def qkeras_3layer():
    from hcp_fpga.models import load_model

    return load_model(*peer("qkeras_3layer"))


@pytest.fixture(scope="session")
def qkeras_project(workdir, qkeras_3layer):
    """qkeras_3layer exported for vcu118 (the authors' VU9P), Latency RF 1, io_parallel."""
    from hcp_fpga.boards import load_board
    from hcp_fpga.design import Design
    from hcp_fpga.hls import export_project

    return export_project(Design.create(qkeras_3layer, load_board("vcu118")), workdir / "qkeras_3layer")


@pytest.fixture(scope="session")
def digits():
    from hcp_fpga.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_mlp(digits):
    """The demo MLP (64-64-32-10) trained on digits for 30 epochs, seed 0."""
    from hcp_fpga.demo import DEMO_HIDDEN
    from hcp_fpga.models import build_mlp
    from hcp_fpga.train import train_classifier

    model = build_mlp(64, DEMO_HIDDEN, 10, seed=0)
    return train_classifier(model, digits, epochs=30, seed=0, show_progress=False)


def run_cli(*argv) -> int:
    from hcp_fpga.cli import main

    return main([str(a) for a in argv])
