"""User-facing errors.

Anything a user can cause (bad file, unknown board, impossible setting) raises an ``HcpError``
subclass whose message names the problem and the fix. The CLI prints it as one line and exits
with code 2. Bugs stay ordinary exceptions with tracebacks.
"""

from __future__ import annotations

import yaml


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


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type name if it has none), at most ``limit``
    characters: what a one-line error quotes from a library's exception."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def shown(value, limit: int = 60) -> str:
    """A value from a user's file as an error line shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_regular_file(path, label: str, fix: str, error: type = HcpError):
    """``path`` when it is a regular file; ``error`` naming ``label`` otherwise. A named pipe, a
    device (a link to /dev/zero) or a socket in a folder would block a read or never end it."""
    import os
    import stat
    from pathlib import Path

    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise error(f"{label}: cannot be read ({exc.strerror or type(exc).__name__}); {fix}") from None
    if not stat.S_ISREG(mode):
        raise error(f"{label}: not a regular file (a pipe, device or socket: reading it could block or never end); {fix}")
    return Path(path)


MAX_YAML_BYTES = 4 * 2**20  # a board, project or hls4ml config is a few kB; anything this large is not one


class Hls4mlYamlLoader(yaml.SafeLoader):
    """hls4ml writes ``!keras_model path`` tags into the configs it saves; read them as plain strings,
    run nothing."""


Hls4mlYamlLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def read_yaml_mapping(path, label: str, fix: str, error: type = HcpError, loader=None) -> dict:
    """A YAML file that must hold a mapping; ``error`` with one line naming ``label``, the line of a
    syntax error and ``fix`` otherwise. ``loader`` defaults to yaml.SafeLoader (runs no code)."""
    import yaml

    path = check_regular_file(path, label, fix, error)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise error(f"{label}: {path.stat().st_size:,} bytes is too large for a configuration file; {fix}")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{label}: not a text file (not UTF-8); {fix}") from None
    except OSError as exc:
        raise error(f"{label}: cannot be read ({exc.strerror or type(exc).__name__}); {fix}") from None
    try:
        data = yaml.load(text, Loader=loader or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise error(f"{label}: malformed YAML{where}; {fix}") from None
    except (RecursionError, ValueError, OverflowError) as exc:
        raise error(f"{label}: unreadable YAML ({type(exc).__name__}); {fix}") from None
    if not isinstance(data, dict):
        raise error(f"{label}: expected a mapping of keys, got {type(data).__name__}; {fix}")
    return data
