"""A ``Design``: a Keras model plus the HLS settings it will be built with on a board.

The design turns itself into an hls4ml configuration and checks its settings with hls4ml's own
rules (valid reuse factors) before anything is written. It does not estimate or export.
"""

from __future__ import annotations

import difflib
from enum import Enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional

from hcp_fpga.board_catalog import Board
from hcp_fpga.errors import ConfigError
from hcp_fpga.estimator.spec import BIDIRECTIONAL_TYPE_KEYS, CLASS_IGNORED_KEYS, CLASS_TYPE_KEYS
from hcp_fpga.models import mult_size

from hcp_fpga.vocab import BACKENDS, IO_TYPES, RF_CHECKED_STRATEGIES, STRATEGIES  # noqa: F401 (re-exported)

PIN_ASPECTS = ("reuse", "strategy", "weight", "bias", "result", "accum")
# (and the types of one family of layers: a separable conv's halves', a BatchNormalization's 'scale', an
# LSTM's or GRU's 'recurrent_weight': spec.CLASS_TYPE_KEYS)
LAYER_TYPE_KEYS = ("weight", "bias", "accum", "table", "exp_table", "inv_table", *CLASS_TYPE_KEYS)



def check_precision(precision: object, where: str = "") -> str:
    """``precision`` if it is a valid HLS fixed-point type; one ConfigError naming the problem otherwise."""
    from hcp_fpga.estimator.precision import parse_fixed

    try:
        parse_fixed(precision)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"precision {precision!r}{where} is invalid ({exc}); write e.g. ap_fixed<16,6>") from None
    return str(precision)


@dataclass(frozen=True)
class HlsSettings:
    """How hls4ml builds a design. ``clock_ns=None`` takes the board's default clock.

    ``layer_reuse`` / ``layer_strategy`` override the model-wide values for named layers.
    """

    backend: Optional[str] = None
    strategy: str = "Latency"
    reuse_factor: int = 1
    io_type: str = "io_parallel"
    precision: str = "ap_fixed<16,6>"
    clock_ns: Optional[float] = None
    layer_reuse: dict[str, int] = field(default_factory=dict)
    layer_strategy: dict[str, str] = field(default_factory=dict)
    # result type per layer (e.g. from quantize.result_precisions); others keep hls4ml's choice
    layer_precision: dict[str, str] = field(default_factory=dict)
    # other types per layer, hls4ml's names: weight, bias, accum, table, exp_table, inv_table (from a
    # user's hls4ml config)
    layer_types: dict[str, dict[str, str]] = field(default_factory=dict)
    layer_table_size: dict[str, int] = field(default_factory=dict)  # activation/softmax table entries
    # hls4ml layer options from a user's config (hlsconfig.OPTION_KEYS: a softmax's Implementation or
    # Skip, a conv's ParallelizationFactor or ConvImplementation), passed to hls4ml and priced
    layer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # hls4ml's Model Precision 'maximum' (config_from_keras_model's max_precision): no type it infers
    # (accumulators, merges, BatchNormalization results) is wider, or has more integer bits
    max_precision: Optional[str] = None
    # what the user fixed per layer (hls4ml config): layer -> aspects among reuse, strategy, weight,
    # bias, result, accum. The optimize loop leaves those as given.
    pinned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # hls4ml's default 1,024-entry softmax exp table maps logits closer than ~1/128 to the same
    # entry; the resulting ties flipped 1.35 % of argmaxes on qkeras_3layer (2,000 standard-normal
    # inputs), 0.35 % at 4,096 entries. None keeps hls4ml's default.
    softmax_table_size: Optional[int] = 4096

    def __post_init__(self) -> None:
        # plain strings, never the vocabulary's Enum members: these values reach hls4ml, which writes
        # them into hls4ml_config.yml (an Enum there becomes a !!python/object tag no safe loader reads)
        for name in ("backend", "strategy", "io_type", "precision"):
            value = getattr(self, name)
            if isinstance(value, Enum):
                object.__setattr__(self, name, value.value)
        if any(isinstance(v, Enum) for v in self.layer_strategy.values()):
            object.__setattr__(self, "layer_strategy", {k: v.value if isinstance(v, Enum) else v
                                                        for k, v in self.layer_strategy.items()})
        if self.backend is not None and self.backend not in BACKENDS:
            raise ConfigError(f"backend '{self.backend}' is not supported; use one of {', '.join(BACKENDS)}")
        for name, strategy in [("(model)", self.strategy), *self.layer_strategy.items()]:
            if strategy not in STRATEGIES:
                raise ConfigError(
                    f"strategy '{strategy}' for {name} is not supported; use one of {', '.join(STRATEGIES)}"
                )
        if self.io_type not in IO_TYPES:
            raise ConfigError(f"io type '{self.io_type}' is not supported; use io_parallel or io_stream")
        for name, rf in [("(model)", self.reuse_factor), *self.layer_reuse.items()]:
            if not isinstance(rf, int) or rf < 1:
                raise ConfigError(f"reuse factor {rf!r} for {name} is invalid; use a whole number >= 1")
        for name, precision in [(None, self.precision), *self.layer_precision.items()]:
            check_precision(precision, f" (layer '{name}')" if name else "")
        if self.max_precision is not None:
            check_precision(self.max_precision, " (Model Precision maximum)")
        for name, types in self.layer_types.items():
            for var, precision in types.items():
                if var not in LAYER_TYPE_KEYS:
                    raise ConfigError(f"type '{var}' of layer '{name}' is not one of {', '.join(LAYER_TYPE_KEYS)} "
                                      "(result: layer_precision)")
                check_precision(precision, f" (layer '{name}' {var})")
        from hcp_fpga.hlsconfig import OPTION_KEYS

        for name, options in self.layer_options.items():
            if not isinstance(options, dict) or set(options) - set(OPTION_KEYS):
                raise ConfigError(f"options of layer '{name}' must be a mapping of {', '.join(OPTION_KEYS)}")
        object.__setattr__(self, "pinned", {k: tuple(v) for k, v in self.pinned.items()})  # lists from a JSON checkpoint
        for name, aspects in self.pinned.items():
            bad = set(aspects) - set(PIN_ASPECTS)
            if bad:
                raise ConfigError(f"pinned aspect(s) {sorted(bad)} of layer '{name}' unknown; use {', '.join(PIN_ASPECTS)}")
        if self.softmax_table_size is not None and not (isinstance(self.softmax_table_size, int)
                                                        and 1 <= self.softmax_table_size <= 1 << 20):
            raise ConfigError(f"softmax table size {self.softmax_table_size!r} is invalid; use a whole number up to 1,048,576")
        if self.clock_ns is not None and not (isinstance(self.clock_ns, (int, float)) and 0 < self.clock_ns < 1e6):
            raise ConfigError(f"clock period {self.clock_ns} ns is invalid; use a positive number of ns")

    def resolved(self, board: Board) -> "HlsSettings":
        """These settings with the board's defaults filled in (backend, clock)."""
        return replace(
            self,
            backend=self.backend or board.backend,
            clock_ns=self.clock_ns if self.clock_ns is not None else board.clock_ns,
        )

    def renamed(self, names: dict[str, str]) -> "HlsSettings":
        """These settings with per-layer keys renamed (``names``: old -> new)."""
        def keyed(d: dict) -> dict:
            return {names.get(k, k): v for k, v in d.items()}

        return replace(self, layer_reuse=keyed(self.layer_reuse), layer_strategy=keyed(self.layer_strategy),
                       layer_precision=keyed(self.layer_precision), layer_types=keyed(self.layer_types),
                       layer_table_size=keyed(self.layer_table_size), layer_options=keyed(self.layer_options),
                       pinned=keyed(self.pinned))

    def configured_layers(self) -> set[str]:
        """The layers some per-layer setting names (reuse, strategy, types, table size, options)."""
        return (set(self.layer_reuse) | set(self.layer_strategy) | set(self.layer_precision) | set(self.layer_types)
                | set(self.layer_table_size) | set(self.layer_options))

    def is_pinned(self, layer_name: str, aspect: str) -> bool:
        """Did the user fix ``aspect`` (reuse, strategy, weight, bias, result, accum) of the layer?"""
        return aspect in self.pinned.get(layer_name, ())

    def strategy_of(self, layer_name: str) -> str:
        return self.layer_strategy.get(layer_name, self.strategy)

    def reuse_of(self, layer_name: str) -> int:
        return self.layer_reuse.get(layer_name, self.reuse_factor)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def saturating(precision: str) -> str:
    """``precision`` with round-to-nearest and saturation, unless it already names its modes."""
    p = precision.replace(" ", "")
    if p.count(",") != 1:  # modes given already, or an integer type
        return p
    return p[:-1] + ",AP_RND,AP_SAT>"


def valid_reuse_factors(n_in: int, n_out: int, strategy: str) -> list[int]:
    """Reuse factors hls4ml 1.3 accepts for an (n_in, n_out) layer under ``strategy`` (its own rule,
    mirrored in ``estimate.reuse`` and tested against the installed hls4ml)."""
    from hcp_fpga.estimator.reuse import valid_reuse_factors as rule

    return rule(n_in, n_out, unrolled=strategy == "ResourceUnrolled")


def reuse_factors_valid_for_all(sizes, strategy: str) -> list[int]:
    """Reuse factors valid for every (n_in, n_out) array in ``sizes`` (``models.array_sizes``: hls4ml
    checks the layer's one reuse factor against each), in increasing order."""
    return sorted(set.intersection(*(set(valid_reuse_factors(*size, strategy)) for size in sizes)))


def written_result_types(model, layer_precision: dict[str, str]) -> dict[str, str]:
    """{hls4ml layer name: result type} of ``layer_precision`` as the export writes it: a fused
    activation (Dense(activation='relu')) becomes its own hls4ml layer '<name>_relu' carrying the same
    values, so it gets its layer's type unless the settings name one for it (a QKeras quantizer
    activation keeps its quantizer's: its split name is not '<name>_<function name>')."""
    types = dict(layer_precision)
    by_name = {layer.name: layer for layer in model.layers}
    for name, precision in layer_precision.items():
        activation = getattr(getattr(by_name.get(name), "activation", None), "__name__", "linear")
        types.setdefault(f"{name}_{activation}", precision)
    return types


def time_distributed_parts(model) -> list[tuple[Any, Any]]:
    """(TimeDistributed, the layer it wraps) of each TimeDistributed in ``model``: hls4ml 1.3 builds the
    wrapped layer as one of its own, configured by its own name, and an end marker '<name>_end'
    (ExpandTimeDistributed), so a config may name both."""
    return [(layer, layer.layer) for layer in model.layers
            if type(layer).__name__ == "TimeDistributed" and getattr(layer, "layer", None) is not None]


def layer_reuse_factors(layer, strategy: str, io_type: str) -> list[int]:
    """Reuse factors hls4ml 1.3 builds right for a Dense/Conv ``layer`` (``models.mult_size``): the
    valid ones, and for an io_parallel Resource convolution (a Dense over a sequence or an image is
    one) at most its kernel x channels: conv_1d/2d_resource_cl assert that, or compute otherwise
    (C simulation: argmax agreement 0.45 at RF 18 on a 3x3x1 kernel; the Conv1D aborts)."""
    n_in, n_out = mult_size(layer)
    valid = valid_reuse_factors(n_in, n_out, strategy)
    shape = getattr(layer, "input_shape", None)
    conv = "Conv" in type(layer).__name__ or (isinstance(shape, tuple) and len(shape) > 2)
    if io_type == "io_parallel" and strategy in RF_CHECKED_STRATEGIES and conv:
        valid = [r for r in valid if r <= n_in]
    return valid


def checked_array_sizes(layer, strategy: str) -> dict[str, tuple[int, int]]:
    """The multiplier arrays of a depthwise/separable conv or LSTM/GRU (``models.array_sizes``) whose
    reuse factor hls4ml 1.3 checks under ``strategy``: none at Latency; under ResourceUnrolled not the
    depthwise ones, which its init_depconv builds at Latency."""
    from hcp_fpga.models import array_sizes, is_depthwise_array

    if strategy not in RF_CHECKED_STRATEGIES:
        return {}
    sizes = array_sizes(layer) or {}
    if strategy == "ResourceUnrolled":
        sizes = {part: size for part, size in sizes.items() if not is_depthwise_array(layer, part)}
    return sizes


@dataclass(frozen=True)
class Design:
    """A model to be built for ``board`` with ``settings`` (defaults already resolved)."""

    model: Any
    board: Board
    settings: HlsSettings

    @classmethod
    def create(cls, model, board: Board, settings: Optional[HlsSettings] = None) -> "Design":
        return cls(model, board, (settings or HlsSettings()).resolved(board))

    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.model.layers]

    def hls_layer_names(self) -> list[str]:
        """The names hls4ml gives the layers (what an hls4ml config's LayerName refers to): the Keras
        layers, the input layer of a Sequential model (``<first>_input``), and activations fused
        into a layer, which hls4ml splits off as ``<layer>_<activation>``; a TimeDistributed's wrapped
        layer and its end marker (``time_distributed_parts``)."""
        from hcp_fpga.estimator.spec import time_distributed_end

        names = list(getattr(self.model, "input_names", []) or [])
        for layer in self.model.layers:
            names.append(layer.name)
            activation = getattr(getattr(layer, "activation", None), "__name__", "linear")
            if hasattr(layer, "kernel") or hasattr(layer, "depthwise_kernel"):
                names.append(f"{layer.name}_{activation}")  # (hls4ml's config also names the '_linear' it drops)
        for wrapper, inner in time_distributed_parts(self.model):
            names += [inner.name, time_distributed_end(wrapper.name)]
        return names

    def validate(self) -> None:
        """Check per-layer settings with hls4ml's rules; raise one clear error on the first bad one."""
        s = self.settings
        names = set(self.hls_layer_names())
        unknown = sorted((s.configured_layers() | set(s.pinned)) - names)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(names), n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"settings name layer(s) not in the model: {', '.join(unknown)}{hint}; "
                              "use names from hcp-fpga inspect")
        self._check_layer_options()
        self._check_class_types()
        self._check_time_distributed()
        for layer in self.model.layers:
            self._check_unrolled(layer)
            self._check_depthwise_resource(layer)
            self._check_conv_batchnorm_resource(layer)
            self._check_array_reuse(layer)
            self._check_reuse(layer)
        for _, inner in time_distributed_parts(self.model):
            # a wrapped layer the settings name (a config's LayerName or LayerType entry): checked as any
            # layer; at the model's reuse factor hls4ml moves an invalid one as it does (priced so)
            if inner.name in s.layer_reuse or inner.name in s.layer_strategy:
                self._check_unrolled(inner)
                self._check_reuse(inner)
        self._check_lstm_types()  # (last: it builds the specs, from settings checked above)

    def _check_reuse(self, layer) -> None:
        """A Dense/Conv's reuse factor, valid for its strategy (``layer_reuse_factors``)."""
        s = self.settings
        size = mult_size(layer)
        if size is None:
            return
        strategy, rf = s.strategy_of(layer.name), s.reuse_of(layer.name)
        if strategy in RF_CHECKED_STRATEGIES:
            valid = layer_reuse_factors(layer, strategy, s.io_type)
            if rf not in valid:
                why = ""
                if rf in valid_reuse_factors(*size, strategy):
                    why = (f": hls4ml 1.3's io_parallel Resource convolution computes reuse factors up to its kernel x "
                           f"channels ({size[0]}) only")
                raise ConfigError(
                    f"reuse factor {rf} is invalid for layer '{layer.name}' ({size[0]}x{size[1]}, {strategy}){why}; "
                    f"valid: {','.join(map(str, valid))}; pick one, or add 'auto' to the reuse factors "
                    "(--reuse 4,auto) to take hls4ml's closest valid one"
                )

    def _check_depthwise_resource(self, layer) -> None:
        """hls4ml 1.3 has no io_parallel Resource depthwise convolution: depthwise_conv_1d/2d_cl assert
        (a separable conv's depthwise half too), and the C simulation aborts (checked)."""
        s = self.settings
        cls = type(layer).__name__.removeprefix("Q")
        if s.io_type == "io_parallel" and s.strategy_of(layer.name) == "Resource" \
                and cls.startswith(("DepthwiseConv", "SeparableConv")):
            raise ConfigError(
                f"layer '{layer.name}' ({cls}): hls4ml 1.3 has no io_parallel Resource depthwise convolution (its C++ "
                "asserts, and the C simulation aborts); give it Strategy: Latency in --config's LayerName, or use "
                "--io-type io_stream")

    def _check_conv_batchnorm_resource(self, layer) -> None:
        """hls4ml 1.3 transposes a QConv2DBatchnorm's folded kernel twice at Resource strategy on the
        Vivado backend (``spec.transposed_twice``): C simulation argmax agreement with QKeras 0.47."""
        from hcp_fpga.estimator.spec import TRANSPOSED_TWICE, transposed_twice
        from hcp_fpga.estimator.graph import base_class

        s = self.settings
        cls = type(layer).__name__
        if transposed_twice(base_class(cls), s.strategy_of(layer.name), s.backend or self.board.backend):
            raise ConfigError(
                f"layer '{layer.name}' ({cls}): {TRANSPOSED_TWICE}; give it Strategy: Latency (or ResourceUnrolled in "
                "io_stream) in --config's LayerName, use --backend Vitis, or a QConv2D followed by a QBatchNormalization")

    def _check_unrolled(self, layer) -> None:
        """ResourceUnrolled where hls4ml 1.3 builds it: a Dense/Conv, an LSTM/GRU, or a separable conv's
        pointwise half, at reuse factor > 1, the convolutions in io_stream; elsewhere it silently takes
        Resource. (A depthwise conv, or half, it builds at Latency: priced so, ``spec.node_specs``.)"""
        s = self.settings
        cls = type(layer).__name__.removeprefix("Q")
        if s.strategy_of(layer.name) != "ResourceUnrolled" or not (
                mult_size(layer) or cls.startswith(("SeparableConv", "LSTM", "GRU"))):
            return
        if s.reuse_of(layer.name) == 1:
            raise ConfigError(
                f"layer '{layer.name}': ResourceUnrolled needs reuse factor > 1 (hls4ml would silently use Resource); "
                "raise --reuse or use --strategy Latency"
            )
        if "Conv" in cls and s.io_type == "io_parallel":
            raise ConfigError(
                f"layer '{layer.name}': ResourceUnrolled convolutions need io_stream (hls4ml would silently use "
                "Resource); pass --io-type io_stream"
            )

    def _check_array_reuse(self, layer) -> None:
        """A depthwise/separable convolution's or LSTM/GRU's reuse factor, valid for each multiplier
        array hls4ml builds of it (``models.array_sizes``): hls4ml would take another one without a
        word."""
        s = self.settings
        strategy, rf = s.strategy_of(layer.name), s.reuse_of(layer.name)
        sizes = checked_array_sizes(layer, strategy)
        for part, size in sizes.items():
            if rf not in valid_reuse_factors(*size, strategy):
                common = reuse_factors_valid_for_all(sizes.values(), strategy)
                raise ConfigError(
                    f"reuse factor {rf} is invalid for layer '{layer.name}' (its array '{part}', {size[0]}x{size[1]}, "
                    f"{strategy}); valid for all of it: {','.join(map(str, common))}; pick one, or add 'auto' to the "
                    "reuse factors (--reuse 4,auto) to take the closest valid one"
                )

    def _check_time_distributed(self) -> None:
        """A reuse factor, strategy or weight/bias/accumulator type named for a TimeDistributed:
        hls4ml 1.3 builds the wrapped layer from that layer's own config entry (its own name, which
        its config does not list), else at the model's reuse factor and strategy, and the TimeDistributed's
        settings have no effect (checked on its generated layers)."""
        s = self.settings
        for layer in self.model.layers:
            if type(layer).__name__ != "TimeDistributed":
                continue
            named = [what for what, given in (("reuse factor", layer.name in s.layer_reuse),
                                              ("strategy", layer.name in s.layer_strategy),
                                              ("types", bool(s.layer_types.get(layer.name)))) if given]
            if named:
                inner = getattr(getattr(layer, "layer", None), "name", "?")
                raise ConfigError(f"layer '{layer.name}' (TimeDistributed): its {', '.join(named)} would have no "
                                  f"effect: hls4ml 1.3 builds the wrapped layer '{inner}' from that layer's own "
                                  "settings, else at the model's reuse factor and strategy; remove them from "
                                  f"'{layer.name}' (the model-wide strategy and precision apply), or name '{inner}'")

    def _check_class_types(self) -> None:
        """A separable conv's half types ('depthwise', 'pointwise_accum', ...) on a separable conv, a
        'scale' on a BatchNormalization, a 'recurrent_weight' on an LSTM/GRU (``spec.CLASS_TYPE_KEYS``):
        hls4ml ignores them elsewhere without a word."""
        from hcp_fpga.estimator.spec import type_key_applies

        classes = {layer.name: type(layer).__name__ for layer in self.model.layers}
        classes.update({inner.name: type(inner).__name__ for _, inner in time_distributed_parts(self.model)})
        for name, types in self.settings.layer_types.items():
            cls = classes.get(name, "")
            for key in types:
                if key in CLASS_IGNORED_KEYS.get(cls, ()):
                    raise ConfigError(f"layer '{name}': hls4ml 1.3 ignores a {cls}'s type '{key}' (it types each "
                                      f"direction: {', '.join(BIDIRECTIONAL_TYPE_KEYS)}); name those instead")
                if not type_key_applies(key, cls):
                    family = " or ".join(CLASS_TYPE_KEYS[key])
                    raise ConfigError(f"layer '{name}': type '{key}' applies to a {family} layer, and '{name}' is "
                                      f"{cls or 'not a Keras layer'}; remove it (a Dense or Conv takes 'weight' and "
                                      "'accum')")

    def _check_layer_options(self) -> None:
        """A softmax option on a softmax, a convolution option on a convolution (or, for
        ConvImplementation, a pooling layer): hls4ml ignores them elsewhere without a word."""
        by_name = {layer.name: layer for layer in self.model.layers}
        by_name.update({inner.name: inner for _, inner in time_distributed_parts(self.model)})
        for name, options in self.settings.layer_options.items():
            layer = by_name.get(name)
            cls = type(layer).__name__ if layer is not None else ""
            activation = getattr(getattr(layer, "activation", None), "__name__", "")
            softmax = cls == "Softmax" or (cls == "Activation" and activation == "softmax") or (
                layer is None and name.endswith("_softmax"))
            for key in options:
                if key in ("Implementation", "Skip", "inp_norm_t") and not softmax:
                    raise ConfigError(f"layer '{name}': {key} applies to a softmax layer, and '{name}' is not one; "
                                      "set it on the softmax (hcp-fpga inspect names the layers)")
                if key in ("ParallelizationFactor", "ConvImplementation") and "Conv" not in cls and not (
                        key == "ConvImplementation" and "Pooling" in cls):
                    raise ConfigError(f"layer '{name}': {key} applies to a convolution, and '{name}' is "
                                      f"{cls or 'not a Keras layer'}; remove it or set it on a convolution")

    def hls_config(self) -> dict:
        """The hls4ml configuration dict (``HLSConfig``), per layer by name."""
        import hls4ml

        from hcp_fpga.estimator.spec import separable_types, time_distributed_end

        s = self.settings
        config = hls4ml.utils.config_from_keras_model(
            self.model,
            granularity="name",
            backend=s.backend,
            default_precision=s.precision,
            default_reuse_factor=s.reuse_factor,
        )
        config["Model"]["Strategy"] = s.strategy
        if s.max_precision is not None:
            config["Model"]["Precision"]["maximum"] = s.max_precision
        layers = config.get("LayerName", {})
        named = s.configured_layers()
        for wrapper, inner in time_distributed_parts(self.model):
            # hls4ml's config lists neither the wrapped layer nor the end marker; it reads their own entries
            for name in (inner.name, time_distributed_end(wrapper.name)):
                if name in named:
                    layers.setdefault(name, {})
        separable = {layer.name for layer in self.model.layers if "SeparableConv" in type(layer).__name__}
        for layer in self.model.layers:
            # hls4ml 1.3 infers only a Dot's result type and asserts when its own per-backend config
            # also asks for an 'auto' accumulator (an AssertionError with no message)
            if type(layer).__name__ == "Dot" and layers.get(layer.name, {}).get("Precision", {}).get("accum") == "auto":
                del layers[layer.name]["Precision"]["accum"]
        for name, layer_cfg in layers.items():
            if name in s.layer_reuse:
                layer_cfg["ReuseFactor"] = s.layer_reuse[name]
            if name in s.layer_strategy:
                layer_cfg["Strategy"] = s.layer_strategy[name]
            if name in s.layer_types:
                types = s.layer_types[name]
                layer_cfg.setdefault("Precision", {}).update(separable_types(types) if name in separable else types)
            if name in s.layer_table_size:
                layer_cfg["TableSize"] = s.layer_table_size[name]
            layer_cfg.update(s.layer_options.get(name, {}))
        for name, precision in written_result_types(self.model, s.layer_precision).items():
            if name in layers:
                layers[name].setdefault("Precision", {})["result"] = precision
        casts = self.quantizer_casts()  # computed once: the export types and the softmax types both read them
        for name, precision in self.export_result_types(casts).items():
            if name in layers:
                layers[name].setdefault("Precision", {})["result"] = precision
        softmaxes = [(name, softmax) for name, _, softmax in self.softmax_feeds() if name in layers]
        saturated = self.softmax_input_types(casts)
        for name, _ in softmaxes:
            precision = layers[name].setdefault("Precision", {})
            precision["result"] = saturated.get(name, precision.get("result", "auto"))
            if f"{name}_linear" in layers:
                # the linear activation hls4ml splits off a Dense/Conv: with the same type it casts
                # nothing and is removed; left 'auto' (or at a type the settings name) after a set type
                # it would stay, a wrapping cast between the saturated logits and the softmax
                layers[f"{name}_linear"].setdefault("Precision", {})["result"] = precision["result"]
        for name, layer_cfg in layers.items():
            if "exp_table" in layer_cfg.get("Precision", {}) and s.softmax_table_size and name not in s.layer_table_size:
                layer_cfg["TableSize"] = s.softmax_table_size
        for name, softmax in softmaxes:
            result = layers[name].get("Precision", {}).get("result", "auto")
            if softmax in layers and result != "auto" and "inp_norm_t" not in layers[softmax]:
                if (norm := softmax_norm_type(result, layers[softmax])) is not None:
                    layers[softmax]["inp_norm_t"] = norm
        return config

    def export_result_types(self, casts: Optional[dict[str, str]] = None) -> dict[str, str]:
        """{hls4ml layer name: result type} the export sets beyond the settings' own, so that hls4ml
        1.3 builds what the Keras model computes: the QKeras quantized_bits casts
        (``quantizer_casts``) and, before a BatchNormalization hls4ml would fold into a depthwise
        convolution wrongly (``spec.broken_depthwise_folds``), that convolution's own inferred type,
        which stops the fold (the BN stays a layer of its own). ``casts``: ``quantizer_casts()``, where
        the caller has it."""
        casts = self.quantizer_casts() if casts is None else casts
        earlier = {**self._unfolded_depthwise_types(casts), **casts}
        return {**self._lstm_input_types(earlier), **earlier}

    def _lstm_inputs(self) -> list:
        """The Keras LSTM/QLSTM layers (hls4ml's LSTM), each with the one layer whose values it reads
        (through a Reshape or Flatten, which pass their input's type on; ``_source``), or None."""
        from hcp_fpga.models import flat_layers

        return [(layer, _source(layer)) for layer in flat_layers(self.model) if type(layer).__name__ in ("LSTM", "QLSTM")]

    def _specs_with(self, result_types: dict[str, str]) -> list:
        """The layer specs of this design with ``result_types`` beyond the settings' own result types
        (which win) and without its layer options: what the export's extra types are decided on."""
        from dataclasses import replace as _replace

        from hcp_fpga.estimator.spec import layer_specs

        s = self.settings
        return layer_specs(self.model, _replace(s, layer_options={}, layer_precision={**result_types, **s.layer_precision}))

    def _lstm_type_clashes(self, result_types: dict[str, str]) -> dict:
        """``spec.lstm_type_clashes`` of this design with ``result_types`` (beyond the settings')."""
        from hcp_fpga.estimator.spec import lstm_type_clashes

        return lstm_type_clashes(self._specs_with(result_types), [layer.name for layer, _ in self._lstm_inputs()])

    def _lstm_input_types(self, earlier: dict[str, str]) -> dict[str, str]:
        """{hls4ml layer name: result type} that let hls4ml 1.3 compile an LSTM (``spec.LSTM_TYPE_CLASH``):
        the layer it reads, whose 'auto' result type hls4ml infers wider than the LSTM's (a Conv1D's: 37
        bits at the default types), gets the LSTM's result type, which is its accumulator's too; as
        hls4ml's model-granularity config types it. Only where the LSTM alone reads that layer and no
        setting (or ``earlier`` export type, e.g. a QActivation's quantizer cast) names its type;
        ``validate`` refuses the rest."""
        from hcp_fpga.estimator.spec import cpp_type

        lstms = self._lstm_inputs()
        if not lstms:
            return {}
        clashes = self._lstm_type_clashes(earlier)
        s = self.settings
        named = set(s.layer_precision) | {n for n, t in s.layer_types.items() if "result" in t} | set(earlier)
        out: dict[str, str] = {}
        for layer, inbound in lstms:
            if layer.name not in clashes or inbound is None:
                continue
            _, result, accum = (cpp_type(t) for t in clashes[layer.name])
            cls = type(inbound).__name__
            if result != accum or cls in ("InputLayer", "QActivation") or not _read_by_one(layer, inbound):
                continue
            names = _typed_names(inbound)
            if cls == "BatchNormalization" and inbound.name in self._folded_batchnorms():
                # hls4ml folds it into the layer before, and a type set on it is lost with it: that layer
                # gets the type too, and the BatchNormalization then stays a layer of its own
                before = _reads(inbound)
                if before is None or len(getattr(before, "_outbound_nodes", ())) != 1:
                    continue
                names += _typed_names(before)
            if not named & set(names):
                out.update(dict.fromkeys(names, result))
        return out

    def _check_lstm_types(self) -> None:
        """An LSTM hls4ml 1.3 cannot compile with the types the export gives it (``spec.LSTM_TYPE_CLASH``)."""
        from hcp_fpga.estimator.spec import LSTM_TYPE_CLASH, cpp_type

        lstms = self._lstm_inputs()
        if not lstms:
            return
        clashes = self._lstm_type_clashes(self.export_result_types())
        for layer, inbound in lstms:
            if layer.name in clashes:
                given, result, accum = (cpp_type(t) for t in clashes[layer.name])
                before = f"the layer before it ('{inbound.name}')" if inbound is not None else "its input"
                fixes = [f"{before} the result type {result}" if given != result else "",
                         f"the LSTM the accum type {result}" if accum != result else ""]
                raise ConfigError(f"layer '{layer.name}' ({type(layer).__name__}): {LSTM_TYPE_CLASH}, and here they are "
                                  f"{given}, {result} and {accum}; give {' and '.join(f for f in fixes if f)} in "
                                  f"--config's LayerName, or the LSTM result and accum {given}")

    def _unfolded_depthwise_types(self, casts: dict[str, str]) -> dict[str, str]:
        from hcp_fpga.estimator.graph import nodes_from_keras
        from hcp_fpga.estimator.spec import broken_depthwise_folds, skip_dropout
        from hcp_fpga.models import flat_layers

        s = self.settings
        if not any(type(layer).__name__.removeprefix("Q").startswith("DepthwiseConv") for layer in flat_layers(self.model)):
            return {}  # (the common case, without building the graph)
        names = set(broken_depthwise_folds(skip_dropout(nodes_from_keras(self.model)), set(s.layer_precision) | set(casts)))
        if not names:
            return {}
        # its linear activation hls4ml splits off takes the same type (else it casts to the model type)
        return {name: sp.result.spelling() for sp in self._specs_with(casts) if sp.name in names
                for name in (sp.name, f"{sp.name}_linear")}

    def quantizer_casts(self) -> dict[str, str]:
        """{hls4ml layer name: result type} that make hls4ml 1.3 apply each QKeras ``quantized_bits``
        activation as Keras does, where it can. hls4ml's config gives it a signed type whatever its
        keep_negative, and its MergeLinearActivation drops it, cast and all, after a layer it deems
        safe (``spec.merges_linear_after``) whose result type is 'auto' (checked by C simulation: a
        QDense -> quantized_bits(4, 1) -> QDense export kept the first Dense's full-width result;
        argmax agreement with Keras 0.945 on 200 normal inputs, max difference 2.0). So the
        activation gets its quantizer's type and, where it is the only reader of such a layer, so
        does that layer (hls4ml then drops the activation as a cast of nothing, and the layer writes
        the quantized values). Where that layer has other readers, hls4ml drops the cast and the
        activation is left out here too (the estimate prices what is built). Types the settings
        set are left alone."""
        from hcp_fpga.estimator.precision import parse_fixed
        from hcp_fpga.estimator.spec import quantizer_fixed, quantizer_name
        from hcp_fpga.models import flat_layers

        s = self.settings
        set_by_settings = set(s.layer_precision) | {n for n, t in s.layer_types.items() if "result" in t}
        casts: dict[str, str] = {}
        folded: Optional[frozenset[str]] = None
        for layer in flat_layers(self.model):
            q = layer.get_config().get("activation") if type(layer).__name__ == "QActivation" else None
            if quantizer_name(q) != "quantized_bits" or layer.name in set_by_settings:
                continue
            precision = quantizer_fixed(q, parse_fixed(s.precision), activation=True).spelling("RND_CONV", "SAT")
            inbound, chain = _reads(layer), [layer.name]
            # a linear Activation between merges away after a safe 'auto' layer too: look through it
            while _is_linear_activation(inbound) and inbound.name not in set_by_settings \
                    and self._merging_parent(_reads(inbound), set_by_settings) is not None:
                if len(inbound._outbound_nodes) != 1:
                    break  # merged away with other readers: the cast cannot land anywhere (lost, as priced)
                chain.append(inbound.name)
                inbound = _reads(inbound)
            parent = self._merging_parent(inbound, set_by_settings)
            if parent is None:  # hls4ml keeps the activation as a cast layer of its own
                casts[layer.name] = precision
            elif len(getattr(inbound, "_outbound_nodes", ())) == 1:
                folded = self._folded_batchnorms() if folded is None else folded
                if inbound.name not in folded:
                    casts.update({name: precision for name in (*chain, *parent)})
        return casts

    def _folded_batchnorms(self) -> frozenset[str]:
        """BatchNormalizations hls4ml 1.3 folds into the layer before (``spec.fuse_batchnorm``): the
        result type set on one is lost with it, and a cast after it then follows that 'auto' layer."""
        from hcp_fpga.estimator.graph import nodes_from_keras
        from hcp_fpga.estimator.spec import fuse_batchnorm, skip_dropout, skip_merged_linear

        nodes, fixed = nodes_from_keras(self.model), set(self.settings.layer_precision)
        kept = {n.name for n in fuse_batchnorm(skip_merged_linear(skip_dropout(nodes), fixed), fixed)}
        return frozenset(n.name for n in nodes if n.base == "BatchNormalization" and n.name not in kept)

    @staticmethod
    def _merging_parent(inbound, set_by_settings: set[str]) -> Optional[tuple[str, ...]]:
        """The hls4ml layer names of ``inbound`` (a Keras layer) where hls4ml 1.3 drops a linear
        activation after it (a safe layer, its result type 'auto'); None where the activation stays."""
        from hcp_fpga.estimator.graph import base_class
        from hcp_fpga.estimator.spec import MULT_BASES, _is_quantizer, merges_linear_after, quantizer_name

        if inbound is None:
            return None
        cls = type(inbound).__name__
        if cls == "QActivation" or not merges_linear_after(cls):
            return None  # a QKeras activation's type is set; after the other layers hls4ml keeps the cast
        names: tuple[str, ...] = (inbound.name,)
        if base_class(cls) in MULT_BASES:
            act = inbound.get_config().get("activation", "linear")
            if _is_quantizer(act):
                return None  # hls4ml splits it off with its quantizer's (set) type
            act = quantizer_name(act)
            # hls4ml splits a Dense's activation off as '<name>_<activation>': that is the parent then
            names = (inbound.name, f"{inbound.name}_linear") if act in ("linear", "None") else (f"{inbound.name}_{act}",)
        return None if set_by_settings & {inbound.name, *names} else names

    def softmax_input_types(self, casts: Optional[dict[str, str]] = None) -> dict[str, str]:
        """{hls4ml layer name: result type} the export gives each layer feeding a softmax (and the
        estimate prices there). hls4ml's stable softmax indexes its exp table with the top bits of
        (max - x) in the input's type; the lossless 'auto' result type of a Dense (e.g.
        ap_fixed<36,16>) makes that index so coarse that every output becomes 1/n (seen on
        KERAS_conv1d_small). So an 'auto' input takes the model type and a chosen width stays, both
        saturating: a wrapped logit would flip the argmax, a clipped one cannot. A type the user's
        config pins, a QKeras quantizer's and the export's quantizer casts are left as they are."""
        from hcp_fpga.estimator.spec import _is_quantizer

        s = self.settings
        feeds = self.softmax_feeds()
        casts = (self.quantizer_casts() if feeds else {}) if casts is None else casts
        types: dict[str, str] = {}
        for name, layer, _ in feeds:
            split = name != layer.name  # the activation hls4ml splits off a Dense/conv: its types follow the layer's
            own = s.layer_precision.get(name) or (s.layer_precision.get(layer.name) if split else None)
            if name in s.layer_precision:
                if not s.is_pinned(name, "result"):
                    types[name] = saturating(s.layer_precision[name])
            elif own or name in casts or "result" in s.layer_types.get(name, {}) or type(layer).__name__ == "QActivation" \
                    or (split and _is_quantizer(layer.get_config().get("activation"))):
                continue  # set by the user's config, by a quantizer or by the export's cast
            else:
                types[name] = saturating(s.precision)
        return types

    def softmax_feeds(self) -> list[tuple[str, Any, str]]:
        """(input name in the hls4ml config, its Keras layer, softmax name) of each softmax. After a
        Dense(activation='sigmoid') the softmax reads the activation hls4ml splits off; a Dropout
        before it is no hls4ml layer (its reader skips it: the softmax reads the layer before)."""
        from hcp_fpga.estimator.graph import base_class
        from hcp_fpga.estimator.spec import MULT_BASES, quantizer_name

        feeds = []
        for layer in self.model.layers:
            activation = getattr(getattr(layer, "activation", None), "__name__", "")
            if type(layer).__name__ == "Softmax" or (type(layer).__name__ == "Activation" and activation == "softmax"):
                inbound = _reads(layer)
                if inbound is None:
                    continue
                act = quantizer_name(inbound.get_config().get("activation")) \
                    if base_class(type(inbound).__name__) in MULT_BASES else "linear"
                feeds.append((inbound.name if act in ("linear", "None") else f"{inbound.name}_{act}", inbound, layer.name))
            elif activation == "softmax":  # Dense(activation='softmax'): hls4ml splits off '<name>_softmax'
                feeds.append((layer.name, layer, f"{layer.name}_softmax"))
        return feeds


def _reads(layer):
    """The single Keras layer ``layer`` reads, as hls4ml's reader sees it (a Dropout skipped); None
    for a model input or several inputs."""
    inbound = layer.inbound_nodes[0].inbound_layers if layer.inbound_nodes else None
    while type(inbound).__name__ == "Dropout" and len(getattr(inbound, "_outbound_nodes", ())) == 1:
        inbound = inbound.inbound_nodes[0].inbound_layers
    return None if isinstance(inbound, list) else inbound


def _typed_names(layer) -> list[str]:
    """The hls4ml layers whose result type a Keras ``layer``'s output has: the layer, and for a Dense or
    conv also the activation hls4ml splits off it ('<name>_linear', '<name>_relu', ...)."""
    from hcp_fpga.estimator.graph import base_class
    from hcp_fpga.estimator.spec import MULT_BASES, quantizer_name

    names = [layer.name]
    if base_class(type(layer).__name__) in MULT_BASES:
        act = quantizer_name(layer.get_config().get("activation", "linear"))
        names.append(f"{layer.name}_{'linear' if act in ('linear', 'None') else act}")
    return names


def _source(layer):
    """The Keras layer whose values ``layer`` reads (``_reads``), looking through Reshape and Flatten
    layers (hls4ml passes their input's type on); None for a model input or several inputs."""
    inbound = _reads(layer)
    while type(inbound).__name__ in ("Reshape", "Flatten"):
        inbound = _reads(inbound)
    return inbound


def _read_by_one(layer, source) -> bool:
    """Is ``source`` (``_source(layer)``) read by ``layer`` alone, through a chain of single readers?"""
    inbound = _reads(layer)
    while inbound is not None and len(getattr(inbound, "_outbound_nodes", ())) == 1:
        if inbound is source:
            return True
        inbound = _reads(inbound)
    return False


def _is_linear_activation(layer) -> bool:
    return type(layer).__name__ == "Activation" and getattr(getattr(layer, "activation", None), "__name__", "") == "linear"


def softmax_norm_type(input_type: str, layer_cfg: dict) -> Optional[str]:
    """The type the export gives a stable softmax's (max - x) (hls4ml's ``inp_norm_t``) after an input
    of ``input_type``, or None to keep hls4ml's (``fixed_softmax.export_norm_type``, which the search's
    emulation of the softmax follows too); None as well for the other implementations and Skip."""
    from hcp_fpga.estimator.precision import parse_fixed
    from hcp_fpga.estimator.spec import HLS4ML_TABLE_SIZE, skips_softmax, softmax_implementation
    from hcp_fpga.fixed_softmax import export_norm_type

    if skips_softmax(layer_cfg) or (softmax_implementation(layer_cfg) or "stable") != "stable":
        return None
    norm = export_norm_type(parse_fixed(input_type), int(layer_cfg.get("TableSize") or HLS4ML_TABLE_SIZE))
    return None if norm is None else norm.spelling("TRN", "SAT")

