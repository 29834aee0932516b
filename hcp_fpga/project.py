"""``project.yaml``: what the optimize loop fits to which board, validated at the boundary.

Every key, its default and an example are in docs/project.md. Paths in the file (a model file, an
.npz data set) are relative to the file's folder; ``output_dir`` is relative to where you run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hcp_fpga.errors import ConfigError, read_yaml_mapping

RESOURCE_KEYS = ("dsp", "bram18", "lut", "ff")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelSpec(_Strict):
    """A model file, or a built-in builder: ``mlp`` (hidden), ``cnn1d``/``cnn2d`` (filters, kernel, dense)."""

    file: Optional[str] = None
    weights: Optional[str] = None
    builder: Optional[Literal["mlp", "cnn1d", "cnn2d"]] = None
    hidden: list[int] = Field(default_factory=lambda: [64, 32])
    filters: list[int] = Field(default_factory=lambda: [8, 8])
    kernel: int = Field(default=3, ge=1)
    dense: list[int] = Field(default_factory=lambda: [16])

    @model_validator(mode="after")
    def _one_source(self):
        if (self.file is None) == (self.builder is None):
            raise ValueError("give exactly one of 'file' (a model file) or 'builder' (mlp, cnn1d, cnn2d)")
        return self


class LatencyBound(_Strict):
    cycles: Optional[int] = Field(default=None, ge=1)
    ns: Optional[float] = Field(default=None, gt=0)


class Targets(_Strict):
    max_accuracy_drop_pp: float = Field(default=1.0, ge=0)
    headroom: dict[str, float] = Field(default_factory=lambda: {r: 0.2 for r in RESOURCE_KEYS})
    latency: LatencyBound = Field(default_factory=LatencyBound)

    @field_validator("headroom")
    @classmethod
    def _headroom(cls, v: dict[str, float]) -> dict[str, float]:
        bad = set(v) - set(RESOURCE_KEYS)
        if bad:
            raise ValueError(f"unknown resource(s) {sorted(bad)}; use {', '.join(RESOURCE_KEYS)}")
        if any(not 0 <= x < 1 for x in v.values()):
            raise ValueError("headroom is a fraction in [0, 1), e.g. 0.2 for 20 %")
        return {r: v.get(r, 0.2) for r in RESOURCE_KEYS}


class Levers(_Strict):
    prune_structures: list[Literal["unstructured", "neuron", "pattern"]] = Field(default_factory=lambda: ["unstructured", "neuron"])
    max_sparsity: float = Field(default=0.95, ge=0, lt=1)
    weight_bits: tuple[int, int] = (4, 16)
    activation_bits: tuple[int, int] = (4, 16)
    reuse_factor: tuple[int, int] = (1, 64)
    strategies: list[Literal["Latency", "Resource", "ResourceUnrolled"]] = Field(default_factory=lambda: ["Latency", "Resource"])

    @field_validator("weight_bits", "activation_bits", "reuse_factor")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= v[0] <= v[1]:
            raise ValueError(f"give [min, max] with 1 <= min <= max, got {list(v)}")
        return v


class Training(_Strict):
    epochs: int = Field(default=40, ge=1)
    batch_size: int = Field(default=32, ge=1)
    finetune_epochs: int = Field(default=10, ge=0)
    learning_rate: float = Field(default=1e-3, gt=0)


class ProjectConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # also the default output folder's name
    model: ModelSpec
    data: str = "digits"
    board: str
    backend: Optional[Literal["Vivado", "Vitis"]] = None
    clock_ns: Optional[float] = Field(default=None, gt=0)
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"
    precision: str = "ap_fixed<16,6>"  # hls4ml's default type (inputs, and layers QKeras does not type)
    targets: Targets = Field(default_factory=Targets)
    levers: Levers = Field(default_factory=Levers)
    training: Training = Field(default_factory=Training)
    max_iterations: int = Field(default=20, ge=1)
    seed: int = 0
    output_dir: Optional[str] = None
    source: Optional[str] = Field(default=None, exclude=True)  # the file it was read from

    @field_validator("precision")
    @classmethod
    def _precision(cls, v: str) -> str:
        from hcp_fpga.design import check_precision

        try:
            return check_precision(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def path(self, relative: str) -> Path:
        """``relative`` (a model or data file named in the project) resolved against the file's folder."""
        p = Path(relative)
        return p if p.is_absolute() or self.source is None else Path(self.source).parent / p

    def out_dir(self, override: Optional[str | Path] = None) -> Path:
        return Path(override or self.output_dir or f"outputs/{self.name}")


def load_project(path: str | Path) -> ProjectConfig:
    """Read and validate a project file; one clear error naming the key and the fix otherwise."""
    path = Path(path)
    if path.is_dir():
        path = path / "project.yaml"
    if not path.is_file():
        raise ConfigError(f"project file '{path}' not found; pass a project.yaml (see projects/ and docs/project.md)")
    data = read_yaml_mapping(path, f"project file '{path}'", "see docs/project.md", ConfigError)
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(file)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"project file '{path}': key '{key}': {first['msg']}{more}; see docs/project.md") from None
    return config.model_copy(update={"source": str(path)})
