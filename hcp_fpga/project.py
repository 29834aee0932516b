"""``project.yaml``: what the optimize loop fits to which board, validated at the boundary.

Every key, its default and an example are in docs/project.md. Paths in the file (a model file, an
.npz data set, an hls4ml config, ``output_dir``) are relative to the file's folder; without
``output_dir`` the results go to ``outputs/<name>`` where you run (``--out`` overrides both).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hcp_fpga.errors import ConfigError, read_yaml_mapping
from hcp_fpga.vocab import BUDGETED, DEFAULT_HEADROOM, Backend, IOType, Strategy

RESOURCE_KEYS = BUDGETED


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
    # a fraction per resource, or "auto": per resource, what the estimator's errors on real designs
    # of the model's class call for to fit at 90 % (estimator/uncertainty.py)
    headroom: Union[Literal["auto"], dict[str, float]] = Field(default_factory=lambda: {r: DEFAULT_HEADROOM for r in RESOURCE_KEYS})
    latency: LatencyBound = Field(default_factory=LatencyBound)

    @field_validator("headroom", mode="before")
    @classmethod
    def _headroom(cls, v):
        if v == "auto":
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):  # one fraction for every resource
            v = {r: v for r in RESOURCE_KEYS}
        if not isinstance(v, dict):
            raise ValueError("headroom is a fraction (0.2), one per resource ({lut: 0.2, dsp: 0.1}) or 'auto'")
        bad = set(v) - set(RESOURCE_KEYS)
        if bad:
            raise ValueError(f"unknown resource(s) {sorted(bad)}; use {', '.join(RESOURCE_KEYS)}")
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x < 1 for x in v.values()):
            raise ValueError("headroom is a fraction in [0, 1), e.g. 0.2 for 20 %")
        return {r: float(v.get(r, DEFAULT_HEADROOM)) for r in RESOURCE_KEYS}

    def headroom_for(self, design_class: Optional[str]) -> dict[str, float]:
        """The headroom per resource; "auto" resolved for a design of ``design_class``."""
        if self.headroom == "auto":
            from hcp_fpga.estimator.uncertainty import auto_headroom

            return auto_headroom(design_class)
        return dict(self.headroom)


class Levers(_Strict):
    prune_structures: list[Literal["unstructured", "neuron", "pattern"]] = Field(default_factory=lambda: ["unstructured", "neuron"])
    max_sparsity: float = Field(default=0.95, ge=0, lt=1)
    weight_bits: tuple[int, int] = (4, 16)
    activation_bits: tuple[int, int] = (4, 16)
    reuse_factor: tuple[int, int] = (1, 64)
    strategies: list[Strategy] = Field(default_factory=lambda: [Strategy.LATENCY, Strategy.RESOURCE])
    accumulators: bool = True  # narrow Dense/Conv accumulators to their profiled ranges
    io_types: list[IOType] = Field(default_factory=lambda: [IOType.PARALLEL, IOType.STREAM])  # the search may switch
    # the output softmax's tables go no smaller: below 256 entries hls4ml's inverse table sends
    # every sum under 4 to 1/0 (fixed_softmax; its C simulation agrees)
    min_softmax_table: int = Field(default=256, ge=2, le=1 << 20)

    @field_validator("weight_bits", "activation_bits", "reuse_factor")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= v[0] <= v[1]:
            raise ValueError(f"give [min, max] with 1 <= min <= max, got {list(v)}")
        return v


class Search(_Strict):
    """How the optimize loop searches (docs/project.md): a beam of ``beam_width`` designs; each
    round evaluates up to ``candidates`` of their best-ranked actions at once (on the executor's
    workers); past the first fit it keeps improving ``objective`` until ``patience`` rounds in a
    row bring less than ``min_improvement_pct``, or a budget runs out."""

    objective: Literal["utilization", "lut_dsp", "ebops", "latency", "weighted"] = "utilization"
    weights: dict[str, float] = Field(default_factory=dict)  # for objective: weighted
    beam_width: int = Field(default=1, ge=1, le=64)
    candidates: Optional[int] = Field(default=None, ge=1, le=256)  # per batch; default: the executor's workers
    patience: int = Field(default=2, ge=0, le=100)
    min_improvement_pct: float = Field(default=1.0, ge=0)
    max_evaluations: int = Field(default=200, ge=1)
    time_budget_s: Optional[float] = Field(default=None, gt=0)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    executor: Literal["serial", "dask"] = "serial"
    workers: Optional[int] = Field(default=None, ge=1, le=1024)
    scheduler: Optional[str] = Field(default=None, pattern=r"^(tcp|tls|inproc|ucx)://[A-Za-z0-9_.:\-\[\]/]+$")

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = set(v) - {"utilization", "lut_dsp", "ebops", "latency"}
        if bad:
            raise ValueError(f"unknown objective term(s) {sorted(bad)}; use utilization, lut_dsp, ebops, latency")
        return v

    @model_validator(mode="after")
    def _weighted_needs_weights(self):
        if self.objective == "weighted" and not self.weights:
            raise ValueError("objective 'weighted' needs weights, e.g. {lut_dsp: 1.0, latency: 10.0}")
        return self


class SynthPolicy(_Strict):
    """Real vendor synthesis inside optimize, where a tool exists (docs/synthesis.md): every
    ``every`` rounds the current best design is synthesized, and with ``final`` the chosen one; a
    real report wins over the estimate for that design and corrects the next estimates of the run.
    The tool comes from PATH or ``--tool-settings`` (never from this file: sourcing a script is
    running code)."""

    every: int = Field(default=0, ge=0, le=1000)  # 0: not during the rounds
    final: bool = True
    step: Literal["csynth", "vsynth"] = "csynth"
    timeout_s: Optional[float] = Field(default=None, gt=0)
    retries: int = Field(default=2, ge=0, le=10)  # more rounds when the final report says it does not fit


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
    backend: Optional[Backend] = None
    clock_ns: Optional[float] = Field(default=None, gt=0)
    io_type: IOType = IOType.PARALLEL
    precision: str = "ap_fixed<16,6>"  # hls4ml's default type (inputs, and layers QKeras does not type)
    targets: Targets = Field(default_factory=Targets)
    levers: Levers = Field(default_factory=Levers)
    training: Training = Field(default_factory=Training)
    search: Search = Field(default_factory=Search)
    max_iterations: int = Field(default=20, ge=1)  # rounds of the search
    seed: int = Field(default=0, ge=0, le=2**32 - 1)  # numpy's and scikit-learn's seed range
    output_dir: Optional[str] = None
    # the user's hls4ml config (its schema: Model, LayerName): a file relative to this one, or inline
    hls_config: Optional[Union[str, dict]] = None
    # a file written by hcp-fpga calibrate (relative to this one): its factors correct every estimate
    calibration: Optional[str] = None
    synth: Optional[SynthPolicy] = None
    source: Optional[str] = Field(default=None, exclude=True)  # the file it was read from

    @field_validator("precision")
    @classmethod
    def _precision(cls, v: str) -> str:
        from hcp_fpga.design import check_precision

        try:
            return check_precision(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def data_spec(self) -> str:
        """``digits``/``mnist1d``, or the .npz path resolved against the project file."""
        return self.data if self.data in ("digits", "mnist1d") else str(self.path(self.data))

    def path(self, relative: str) -> Path:
        """``relative`` (a model or data file named in the project) resolved against the file's folder."""
        p = Path(relative)
        return p if p.is_absolute() or self.source is None else Path(self.source).parent / p

    def parsed_hls_config(self):
        """The ``hls_config`` block or file, checked (``hlsconfig.HlsConfig``), or None."""
        from hcp_fpga.hlsconfig import load_hls_config, parse_hls_config

        if self.hls_config is None:
            return None
        if isinstance(self.hls_config, dict):
            return parse_hls_config(self.hls_config, f"project '{self.source or self.name}' hls_config")
        return load_hls_config(self.path(self.hls_config))

    def loaded_calibration(self):
        """The ``calibration`` file, checked (``estimator.calibration.Calibration``), or None."""
        if self.calibration is None:
            return None
        from hcp_fpga.estimator.calibration import load

        return load(self.path(self.calibration))

    def hls_settings(self, base):
        """``base`` settings with the user's hls4ml config applied (its layers pinned; its LayerType
        entries and Model variable types need the model: ``HlsConfig.for_model``)."""
        parsed = self.parsed_hls_config()
        return parsed.apply(base) if parsed else base

    def out_dir(self, override: Optional[str | Path] = None) -> Path:
        """``override`` (--out, relative to where you run); else ``output_dir`` from the file, relative
        to the file like every path in it; else ``outputs/<name>`` where you run."""
        if override:
            return Path(override)
        return self.path(self.output_dir) if self.output_dir else Path("outputs") / self.name


def _problem(err: dict) -> str:
    """One validation error as 'key 'a.b': message', with a did-you-mean for a misspelt key."""
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "(file)"
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] = ProjectConfig
        for part in loc[:-1]:  # the section the key sits in
            field = model.model_fields.get(part)
            inner = getattr(field, "annotation", None) if field else None
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                model = inner
        close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
        return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")
    return f"key '{key}': {err['msg']}"


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
        problems = [_problem(err) for err in exc.errors()]
        shown = "; ".join(problems[:4]) + (f"; +{len(problems) - 4} more" if len(problems) > 4 else "")
        raise ConfigError(f"project file '{path}': {shown}; see docs/project.md") from None
    config = config.model_copy(update={"source": str(path)})
    config.parsed_hls_config()  # checked now, before anything runs
    config.loaded_calibration()
    return config
