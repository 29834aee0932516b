"""User-facing errors.

Anything a user can cause (bad file, unknown board, impossible setting) raises an ``HcpError``
subclass whose message names the problem and the fix. The CLI prints it as one line and exits
with code 2. Bugs stay ordinary exceptions with tracebacks.
"""

from __future__ import annotations


class HcpError(Exception):
    """Base class for errors the user can fix."""

    exit_code = 2


class BoardError(HcpError):
    """Unknown board or invalid board catalog file."""


class ModelLoadError(HcpError):
    """A model file cannot be loaded safely."""


class UnsupportedLayerError(HcpError):
    """The model has layers hls4ml cannot convert."""


class DataError(HcpError):
    """A data set is missing, malformed or does not fit the model."""


class ConfigError(HcpError):
    """An invalid export/HLS setting (reuse factor, precision, strategy...)."""


class OutputExistsError(HcpError):
    """The output directory exists and --force was not given."""


class ToolError(HcpError):
    """An external tool (g++, hls4ml) is missing or failed."""


def read_yaml_mapping(path, label: str, fix: str, error: type = HcpError, loader=None) -> dict:
    """A YAML file that must hold a mapping; ``error`` with one line naming ``label``, the line of a
    syntax error and ``fix`` otherwise. ``loader`` defaults to yaml.SafeLoader (runs no code)."""
    from pathlib import Path

    import yaml

    try:
        data = yaml.load(Path(path).read_text(), Loader=loader or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise error(f"{label}: malformed YAML{where}; {fix}") from None
    if not isinstance(data, dict):
        raise error(f"{label}: expected a mapping of keys, got {type(data).__name__}; {fix}")
    return data
