"""Shared fixtures: paths to ../shared, and exported projects reused across tests (g++ is slow).

Every test is marked by what it needs, from its source and fixtures: ``shared`` (../shared, or
$HCP_FPGA_SHARED), ``gpp`` (g++ for a C simulation), ``tf`` (TensorFlow/Keras). A missing
../shared or g++ skips only the tests that need it, with the reason; ``-m "not gpp"`` selects.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HCP_FPGA_SHARED") or REPO.parent / "shared")
PEERS = SHARED / "peer-models"
HAVE_SHARED = PEERS.is_dir()
HAVE_GPP = shutil.which("g++") is not None

# words in a test's source (or its module's fixtures) that say what it needs
_NEEDS = {
    "shared": ("SHARED", "PEERS", "peer(", "TRIPLES", "CORPUS", "../shared", "qkeras_3layer", "qkeras_project",
               "needs_corpus", "_triple_estimate", "_JET_SPECS"),
    "gpp": ("csim", "run_csim", '"demo"', "optimize", "run_loop", "tiny_project", "qkeras_project", "compile"),
    "tf": ("load_model", "build_mlp", "build_cnn", "train_classifier", "to_qkeras", "tf.keras", "tensorflow", "digits_mlp",
           "qkeras_3layer", "export", "optimize", "run_loop", "inspect", '"demo"', "trained_mlp", "float_mlp"),
}


def _source(item) -> str:
    try:
        text = inspect.getsource(item.function)
    except (OSError, TypeError):
        return ""
    return text + " " + " ".join(item.fixturenames)


def _reads_shared_globals(item) -> bool:
    """Does the test use a module-level path (or list of paths) under ../shared?"""
    module = getattr(item, "module", None)
    code = getattr(getattr(item, "function", None), "__code__", None)
    if module is None or code is None:
        return False
    names = set(code.co_names) | {n for const in code.co_consts if hasattr(const, "co_names") for n in const.co_names}
    for name in names:
        value = module.__dict__.get(name)
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, Path) and str(v).startswith(str(SHARED)) for v in values):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        text = _source(item)
        for marker, words in _NEEDS.items():
            if any(word in text for word in words):
                item.add_marker(getattr(pytest.mark, marker))
        if _reads_shared_globals(item):
            item.add_marker(pytest.mark.shared)
        if not HAVE_SHARED and "shared" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"{PEERS} not found: this test reads ../shared (set HCP_FPGA_SHARED)"))
        if not HAVE_GPP and "gpp" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="g++ not found: this test builds a C simulation"))


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
    from hcp_fpga.board_catalog import load_board
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


@pytest.fixture(scope="session")
def digits_mlp_20(digits):
    """64-64-32-10 on digits, 20 epochs, seed 0: trained once per session. Tests that change weights
    take a copy (``hcp_fpga.models.copy_model``)."""
    from hcp_fpga.models import build_mlp
    from hcp_fpga.train import train_classifier

    return train_classifier(build_mlp(64, (64, 32), 10, seed=0), digits, epochs=20, seed=0, show_progress=False)


def run_cli(*argv) -> int:
    from hcp_fpga.cli import main

    return main([str(a) for a in argv])
