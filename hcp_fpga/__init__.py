"""hcp_fpga: hardware-coupled pruning and quantization of Keras/QKeras models for FPGAs.

The public API mirrors the CLI: ``load_board``/``list_boards``, ``load_model``/``inspect_model``,
``load_dataset``, ``export_project`` and ``run_csim``. Heavy dependencies (TensorFlow, hls4ml) are
imported lazily by the modules that need them, so ``import hcp_fpga`` stays cheap.
"""

from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("hcp_fpga")
except _metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

from hcp_fpga.boards import Board, list_boards, load_board  # noqa: E402
from hcp_fpga.errors import HcpError  # noqa: E402

__all__ = ["Board", "HcpError", "list_boards", "load_board", "__version__"]
