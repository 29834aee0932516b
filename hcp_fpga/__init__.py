"""hcp_fpga: hardware-coupled pruning and quantization of Keras/QKeras models for FPGAs.

The public API mirrors the CLI, one function per verb (``hcp_fpga/api.py``, docs/api.md):
``boards``, ``inspect``, ``estimate``, ``export``, ``csim``, ``optimize``, ``report``. Heavy
dependencies (TensorFlow, hls4ml) are imported lazily by the functions that need them, so
``import hcp_fpga`` stays cheap. The estimator itself lives in ``hcp_fpga.estimator``.
"""

from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("hcp_fpga")
except _metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

from hcp_fpga.api import (  # noqa: E402
    DEFAULT_HEADROOM,
    DesignOptions,
    EstimateResult,
    ExportResultWithNotes,
    InspectResult,
    boards,
    calibrate,
    csim,
    estimate,
    export,
    export_point,
    inspect,
    optimize,
    report,
    sweep,
    synth,
)
from hcp_fpga.board_catalog import Board, list_boards, load_board  # noqa: E402
from hcp_fpga.errors import HcpError  # noqa: E402

__all__ = [
    "DEFAULT_HEADROOM", "Board", "DesignOptions", "EstimateResult", "ExportResultWithNotes", "HcpError", "InspectResult",
    "__version__", "boards", "calibrate", "csim", "estimate", "export", "export_point", "inspect", "list_boards", "load_board", "optimize", "report", "sweep",
    "synth",
]
