"""A user's hls4ml configuration (``hls4ml_config.yml`` or a ``hls_config:`` block), in hls4ml's own
schema, applied to our ``HlsSettings``; and per-layer reuse factors from the command line.

Read, never executed: the YAML is parsed with the safe loader and every value is checked (types
through ``check_precision``, reuse factors as whole numbers, strategies from the vocabulary).
What a user names per layer is *pinned*: the optimize loop leaves it as given.

Schema (the part of hls4ml's that sets how a layer is built)::

    Model:      {Precision: ap_fixed<16,6> | {default: ..., maximum: ...}, ReuseFactor: 1, Strategy: Latency}
    LayerName:
      fc1:      {Precision: {weight: ..., bias: ..., result: ..., accum: ...} | ap_fixed<..>,
                 ReuseFactor: 4, Strategy: Resource}
      softmax:  {Precision: {exp_table: ..., inv_table: ...}, TableSize: 4096}

      sm:       {Implementation: latency | stable | argmax | legacy, Skip: false}
      conv1:    {ParallelizationFactor: 4, ConvImplementation: LineBuffer | Encoded}
    LayerType:  {Dense: {...as a LayerName entry}}   # by hls4ml class, under the layer's own entry

``LayerType`` entries and Model variable types (``Precision: {weight: ...}``) are checked at once and
written into each layer once the model is known (``HlsConfig.for_model``; ``spec.with_layer_types``,
the rule the project path reads configs with).

``Trace`` is accepted and ignored (it only adds debug outputs to the C++). The other options hls4ml's
``config_from_keras_model`` writes (DEFAULT_ONLY_KEYS) are accepted at hls4ml's default only, the
types hls4ml applies to one family of layers (``spec.CLASS_TYPE_KEYS``: a separable conv's halves', a
BatchNormalization's scale, a recurrent kernel's, a Bidirectional's per direction) apply there and are
noted elsewhere, and the types it fills from QKeras quantizers under other keys (DEFAULT_ONLY_TYPES)
are read, not applied, and named in a note, so a config hls4ml generated reads as it is. A plain
Precision string, or a Precision mapping's 'default', types every variable of the layer's class
(hls4ml's ``<layer>_default``: ``spec.plain_precision_keys``). hls4ml 0.x spellings
(``exp_table_t``, ``inv_table_t``, ``table_size`` beside ``Precision``) are read as today's keys.

A full hls4ml config (``HLSConfig:`` around it, plus ``Backend``, ``Part``, ... as hls4ml writes
it) is accepted; its keys outside ``HLSConfig`` are ignored with a note, since the board decides
the part and the command line the rest.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from hcp_fpga.errors import ConfigError, Hls4mlYamlLoader, read_yaml_mapping
from hcp_fpga.estimator.spec import CLASS_TYPE_KEYS

CLASS_TYPES = tuple(CLASS_TYPE_KEYS)

TYPE_KEYS = ("weight", "bias", "result", "accum")
TABLE_KEYS = ("table", "exp_table", "inv_table")  # activation/softmax lookup tables
MODEL_KEYS = ("Precision", "ReuseFactor", "Strategy", "BramFactor", "TraceOutput", "BitExact")
_BRAM_FACTOR = 1000000000  # hls4ml's default Model BramFactor: no weight array becomes a port
# hls4ml < 1.0 wrote a softmax's table types and size beside Precision; read as today's keys
OLD_TABLE_KEYS = {"exp_table_t": "exp_table", "inv_table_t": "inv_table", "table_t": "table"}
# hls4ml layer options hcp_fpga passes on to hls4ml and prices on both paths (values checked)
OPTION_KEYS = ("Implementation", "Skip", "ParallelizationFactor", "ConvImplementation", "inp_norm_t")
CONV_IMPLEMENTATIONS = ("LineBuffer", "Encoded")  # hls4ml 1.3's ConvImplementation choices (io_stream)
# keys hls4ml's own config_from_keras_model writes for some layers, accepted at hls4ml's default only
# (a config hls4ml generated reads as it is): RNN, separable and activation options
DEFAULT_ONLY_KEYS = {"RecurrentReuseFactor": 1, "Static": True, "TableRangePower2": 0, "DepthwiseReuseFactor": 1,
                     "PointwiseReuseFactor": 1, "ForwardReuseFactor": 1, "BackwardReuseFactor": 1,
                     "ForwardRecurrentReuseFactor": 1, "BackwardRecurrentReuseFactor": 1, "Algorithm": "nearest",
                     "Direction": "forward", "TimeStepLoopParallelism": "Off"}
LAYER_KEYS = ("Precision", "ReuseFactor", "Strategy", "TableSize", "Trace", "table_size", *OLD_TABLE_KEYS, *OPTION_KEYS,
              *DEFAULT_ONLY_KEYS)
# Precision keys hls4ml writes for some layers (a softmax's inv_inp, a QBatchNormalization's
# quantizer types, embedding and hard-activation types; a separable conv's half types, a scale, a
# recurrent kernel's and bias's, a Bidirectional's and a parameter's types are applied:
# spec.CLASS_TYPE_KEYS). hls4ml's generator fills them from a QKeras layer's quantizers, whose types
# hls4ml builds whatever its config says: read, not applied, and said in a note when not 'auto' (the
# export and the estimate keep the quantizer's type or hls4ml's default)
DEFAULT_ONLY_TYPES = ("inv_inp", "slope", "shift", "mean", "variance", "beta", "gamma", "embeddings", "slope_t",
                      "shift_t", "table_t")


def _unapplied(keys: list[str], keras_class: str) -> str:
    """Why hls4ml applies none of a layer's Precision ``keys`` (types of other layer families)."""
    from hcp_fpga.estimator.spec import BIDIRECTIONAL_TYPE_KEYS, CLASS_IGNORED_KEYS

    if keras_class == "Bidirectional" and set(keys) <= set(CLASS_IGNORED_KEYS["Bidirectional"]):
        return (f"not applied: hls4ml 1.3 types a Bidirectional's kernels and biases per direction; name "
                f"{', '.join(BIDIRECTIONAL_TYPE_KEYS)} instead")
    families = sorted({family for key in keys for family in CLASS_TYPE_KEYS.get(key, ())})
    return (f"not applied: hls4ml 1.3 reads {'these' if len(keys) > 1 else 'this type'} on a "
            f"{' or '.join(families) or 'other'} layer only, and this one is {keras_class or 'no layer of the model'}; "
            "the export and the estimate leave it out")


UNAPPLIED = ("not applied; the export and the estimate keep the layer's QKeras quantizer types or hls4ml's defaults "
             "(hls4ml builds a quantizer's type whatever its config says)")
_HLS4ML_SOFTMAX_TYPE = "fixed<18,8,RND,SAT,0>"  # hls4ml 1.3's default for a softmax's inv_inp (and tables)
# keys hls4ml writes around HLSConfig in a project's hls4ml_config.yml; the board/CLI decide them here
PROJECT_KEYS = ("Backend", "Part", "ClockPeriod", "IOType", "OutputDir", "ProjectName", "KerasModel", "KerasJson",
                "KerasH5", "InputData", "OutputPredictions", "Stamp", "Version", "XilinxPart", "ClockUncertainty",
                "WriterConfig", "ModelType", "Board", "InputShapes", "OutputShapes")


@dataclass(frozen=True)
class LayerPin:
    """What a user fixed for one layer; None: not given."""

    reuse_factor: Optional[int] = None
    strategy: Optional[str] = None
    types: dict[str, str] = field(default_factory=dict)  # weight/bias/result/accum/tables -> HLS type
    table_size: Optional[int] = None
    options: dict[str, Any] = field(default_factory=dict)  # OPTION_KEYS -> checked value
    # a plain Precision string, or a Precision mapping's 'default': the type of every variable the
    # layer's class has (``spec.plain_precision_keys``) and ``named`` leaves out
    plain: Optional[str] = None
    named: tuple[str, ...] = ()  # the variables its Precision mapping names ('auto' included)


@dataclass(frozen=True)
class HlsConfig:
    """A parsed user hls4ml configuration."""

    precision: Optional[str] = None
    reuse_factor: Optional[int] = None
    strategy: Optional[str] = None
    layers: dict[str, LayerPin] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()  # top-level keys that do not apply (Part, Backend, ...)
    source: str = "hls_config"
    notes: tuple[str, ...] = ()  # what was read and not applied, one line each
    maximum: Optional[str] = None  # Model Precision 'maximum': the cap on every type hls4ml infers
    raw: Mapping = field(default_factory=dict, compare=False)  # the checked mapping, for for_model

    @property
    def needs_model(self) -> bool:
        """Does it set layers by their hls4ml class (LayerType) or every layer's variables (Model
        Precision weight/bias/result/accum)? Those apply once the model's layers are known."""
        precision = (self.raw.get("Model") or {}).get("Precision")
        return bool(self.raw.get("LayerType")) or (
            isinstance(precision, Mapping) and any(k not in ("default", "maximum") for k in precision))

    def for_model(self, model) -> "HlsConfig":
        """This config with its LayerType entries and Model variable types written into each of
        ``model``'s layers (hls4ml's order: the layer's own entry, then its class's, then the
        model's; ``spec.with_layer_types``, the rule the project path reads configs with), a plain
        Precision string's type on every variable of its layer's class, and a type of one family of
        layers (a separable conv's 'depthwise', ...) named on another layer dropped with a note."""
        return (self._spread_over(model) if self.needs_model else self)._class_types_on_their_layers(model)

    def _class_types_on_their_layers(self, model) -> "HlsConfig":
        """hls4ml applies the types of a separable conv's halves to a separable conv only, a 'scale' to
        a BatchNormalization or LayerNormalization only, ... (``spec.CLASS_TYPE_KEYS``); its generator
        writes 'depthwise' for a depthwise conv too, which it builds from 'weight' (or the QKeras
        quantizer): read, not applied, and said in a note. A plain Precision string (``LayerPin.plain``)
        types every variable of the layer's class (``spec.plain_precision_keys``), silently not the
        others."""
        from hcp_fpga.estimator.spec import plain_precision_keys, type_key_applies
        from hcp_fpga.models import flat_layers

        classes = {layer.name: type(layer).__name__ for layer in flat_layers(model)}
        layers, notes = dict(self.layers), list(self.notes)
        for name, pin in self.layers.items():
            cls = classes.get(name, "")
            types = dict(pin.types)
            if pin.plain is not None and cls:  # hls4ml's <layer>_default: every variable of the class
                types.update({k: pin.plain for k in plain_precision_keys(cls) if k not in pin.named and k not in types})
            dropped = [k for k in types if not type_key_applies(k, cls)]
            named = [k for k in dropped if pin.plain is None or k in pin.named]  # (a plain type's are silent)
            if types != pin.types or dropped:
                layers[name] = replace(pin, types={k: v for k, v in types.items() if k not in dropped})
            if named:
                notes.append(f"{self.source} LayerName.{name}.Precision {', '.join(named)}: {_unapplied(named, cls)}")
        return replace(self, layers=layers, notes=tuple(dict.fromkeys(notes))) if layers != self.layers else self

    def _spread_over(self, model) -> "HlsConfig":
        from hcp_fpga.estimator.graph import nodes_from_keras
        from hcp_fpga.estimator.spec import hls4ml_layer_classes, with_layer_types

        nodes = nodes_from_keras(model)
        expanded = with_layer_types({"HLSConfig": dict(self.raw)}, nodes)["HLSConfig"]
        model_section = dict(expanded.get("Model") or {})
        if isinstance(model_section.get("Precision"), Mapping):
            model_section["Precision"] = {k: v for k, v in model_section["Precision"].items() if k in ("default", "maximum")}
        parsed = parse_hls_config({"Model": model_section, "LayerName": expanded.get("LayerName") or {}}, self.source)
        classes = {cls for node in nodes for _, cls in hls4ml_layer_classes(node)}
        unused = [str(c) for c in (self.raw.get("LayerType") or {}) if str(c) not in classes]
        notes = [f"{self.source} LayerType.{c}: no layer of this model is an hls4ml '{c}' (hls4ml's classes here: "
                 f"{', '.join(sorted(classes))})" for c in unused]
        return replace(parsed, ignored=self.ignored, notes=tuple(dict.fromkeys((*self.notes, *parsed.notes, *notes))),
                       raw=self.raw)

    def apply(self, settings, explicit: Optional[Mapping[str, Any]] = None):
        """``settings`` with this config: model-level values, then ``explicit`` model-level values
        (command-line flags win over the file), then the per-layer values, which are pinned."""
        from hcp_fpga.design import HlsSettings

        s: HlsSettings = settings
        model = {k: v for k, v in (("precision", self.precision), ("reuse_factor", self.reuse_factor),
                                   ("strategy", self.strategy), ("max_precision", self.maximum)) if v is not None}
        s = replace(s, **{**model, **{k: v for k, v in (explicit or {}).items() if v is not None}})
        reuse, strategy, tables = dict(s.layer_reuse), dict(s.layer_strategy), dict(s.layer_table_size)
        options = {k: dict(v) for k, v in s.layer_options.items()}
        result, types = dict(s.layer_precision), {k: dict(v) for k, v in s.layer_types.items()}
        for name, pin in self.layers.items():
            if pin.reuse_factor is not None:
                reuse[name] = pin.reuse_factor
            if pin.strategy is not None:
                strategy[name] = pin.strategy
            if pin.table_size is not None:
                tables[name] = pin.table_size
            if pin.options:
                options[name] = {**options.get(name, {}), **pin.options}
            if "result" in pin.types:
                result[name] = pin.types["result"]
            other = {k: v for k, v in pin.types.items() if k != "result"}
            if other:
                types[name] = {**types.get(name, {}), **other}
        pinned = {name: tuple(aspects) for name, aspects in s.pinned.items()}
        for name, pin in self.layers.items():
            aspects = ((["reuse"] if pin.reuse_factor is not None else []) + (["strategy"] if pin.strategy else [])
                       + [t for t in pin.types if t in TYPE_KEYS])
            pinned[name] = tuple(sorted(set(pinned.get(name, ())) | set(aspects)))
        return replace(s, layer_reuse=reuse, layer_strategy=strategy, layer_precision=result, layer_types=types,
                       layer_table_size=tables, layer_options=options, pinned=pinned)


def _did_you_mean(key: str, allowed) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _reuse(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: ReuseFactor {value!r} is invalid; use a whole number >= 1")
    return value


def _strategy(value, where: str) -> str:
    from hcp_fpga.design import STRATEGIES

    # hls4ml accepts any case ('latency', 'resource'); we keep its canonical spelling
    canonical = {s.lower(): s for s in STRATEGIES}
    if not isinstance(value, str) or value.lower() not in canonical:
        raise ConfigError(f"{where}: Strategy {value!r} is not supported; use one of {', '.join(STRATEGIES)}")
    return canonical[value.lower()]


def _type(value, where: str) -> str:
    from hcp_fpga.design import check_precision

    if value == "auto":
        raise ConfigError(f"{where}: 'auto' is hls4ml's default already; leave the key out to keep it")
    return check_precision(value, f" ({where})")


def _unapplied_type(key: str, value, where: str) -> bool:
    """A type hcp_fpga does not set (DEFAULT_ONLY_TYPES), checked (one ConfigError if it is no
    type): False for 'auto' or hls4ml's default, True when it is read and not applied."""
    from hcp_fpga.estimator.precision import parse_fixed

    if value == "auto":
        return False
    _type(value, where)
    return not (key == "inv_inp" and parse_fixed(value) == parse_fixed(_HLS4ML_SOFTMAX_TYPE))


def _options(cfg: Mapping, where: str) -> dict[str, Any]:
    """The layer options (OPTION_KEYS) of a LayerName entry, checked: one ConfigError naming the fix."""
    from hcp_fpga.estimator.spec import SOFTMAX_IMPLEMENTATIONS

    options: dict[str, Any] = {}
    if "Implementation" in cfg:
        value = cfg["Implementation"]
        if not isinstance(value, str) or value.lower() not in SOFTMAX_IMPLEMENTATIONS:
            raise ConfigError(f"{where}: Implementation {value!r} is not a softmax implementation hls4ml builds; use one "
                              f"of {', '.join(SOFTMAX_IMPLEMENTATIONS)}")
        options["Implementation"] = value.lower()
    if "Skip" in cfg:
        if not isinstance(cfg["Skip"], bool):
            raise ConfigError(f"{where}: Skip {cfg['Skip']!r} is invalid; use true or false")
        if cfg["Skip"]:
            options["Skip"] = True
    if "ParallelizationFactor" in cfg:
        value = cfg["ParallelizationFactor"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: ParallelizationFactor {value!r} is invalid; use a whole number >= 1")
        if value > 1:
            options["ParallelizationFactor"] = value
    if "ConvImplementation" in cfg:
        value = cfg["ConvImplementation"]
        choice = {c.lower(): c for c in CONV_IMPLEMENTATIONS}.get(value.lower() if isinstance(value, str) else "")
        if choice is None:
            raise ConfigError(f"{where}: ConvImplementation {value!r} is not one hls4ml builds; use "
                              f"{' or '.join(CONV_IMPLEMENTATIONS)}")
        if choice != "LineBuffer":
            options["ConvImplementation"] = choice
    if "inp_norm_t" in cfg:  # a stable softmax's (max - x) type, as our export writes it (design.softmax_norm_type)
        options["inp_norm_t"] = _type(cfg["inp_norm_t"], f"{where}.inp_norm_t")
    return options


def _check_keys(mapping: Mapping, allowed, where: str) -> None:
    for key in mapping:
        if key not in allowed:
            # 'ap_fixed<16,6>' unquoted inside a YAML {...} mapping splits at its comma: a key '6>'
            split = " (a type with a comma inside a YAML {...} mapping must be quoted: \"ap_fixed<16,6>\")" \
                if ">" in str(key) or str(key).strip().isdigit() else ""
            raise ConfigError(f"{where}: unknown key '{key}'{split or _did_you_mean(str(key), allowed)}; "
                              f"allowed: {', '.join(allowed)}")


def _layer_pin(cfg, where: str, notes: list[str]) -> LayerPin:
    """One LayerName (or LayerType) entry, checked; what it reads and does not apply goes to ``notes``."""
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"{where}: expected a mapping (Precision, ReuseFactor, Strategy)")
    _check_keys(cfg, LAYER_KEYS, where)
    types: dict[str, str] = {}
    prec = cfg.get("Precision")
    plain: Optional[str] = None
    if isinstance(prec, Mapping) and "default" in prec:  # hls4ml's <layer>_default, as a plain string sets it
        plain = _type(prec["default"], f"{where}.Precision.default")
        types = {key: plain for key in TYPE_KEYS if key not in prec}
        prec = {k: v for k, v in prec.items() if k != "default"}
    if isinstance(prec, Mapping):
        _check_keys(prec, (*TYPE_KEYS, *TABLE_KEYS, "kernel", *CLASS_TYPES, *DEFAULT_ONLY_TYPES), f"{where}.Precision")
        unapplied = [key for key, value in prec.items()
                     if key in DEFAULT_ONLY_TYPES and _unapplied_type(key, value, f"{where}.Precision.{key}")]
        if unapplied:
            notes.append(f"{where}.Precision {', '.join(unapplied)}: {UNAPPLIED}")
        for key, value in prec.items():
            if key in DEFAULT_ONLY_TYPES:
                continue
            elif value != "auto":  # hls4ml's own default: nothing to pin
                types["weight" if key == "kernel" else key] = _type(value, f"{where}.Precision.{key}")
    elif prec is not None:  # one type for the layer: hls4ml uses it for each of its variables
        plain = _type(prec, f"{where}.Precision")
        types = dict.fromkeys(TYPE_KEYS, plain)
    for old, key in OLD_TABLE_KEYS.items():
        if old in cfg:
            types[key] = _type(cfg[old], f"{where}.{old}")
    size = cfg.get("TableSize", cfg.get("table_size"))
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1 << 20):
        raise ConfigError(f"{where}: TableSize {size!r} is invalid; use a whole number from 1 to 1,048,576")
    for key, default in DEFAULT_ONLY_KEYS.items():
        if key in cfg and (cfg[key] != default or isinstance(cfg[key], bool) != isinstance(default, bool)):
            raise ConfigError(f"{where}: {key} {cfg[key]!r} is not supported (hcp_fpga builds and prices hls4ml's "
                              f"default, {default!r}); leave the key out")
    named = tuple("weight" if k == "kernel" else k for k in prec) if isinstance(prec, Mapping) else ()
    return LayerPin(_reuse(cfg["ReuseFactor"], where) if "ReuseFactor" in cfg else None,
                    _strategy(cfg["Strategy"], where) if "Strategy" in cfg else None, types, size, _options(cfg, where),
                    plain, named)


def parse_hls_config(data: Mapping, source: str = "hls_config") -> HlsConfig:
    """Check a config mapping (hls4ml's schema) and return it typed; one clear error otherwise."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping with 'Model' and/or 'LayerName', got {type(data).__name__}")
    ignored: list[str] = []
    if "HLSConfig" in data:  # a whole project config as hls4ml writes it
        ignored = [str(k) for k in data if k != "HLSConfig"]
        unknown = [k for k in ignored if k not in PROJECT_KEYS]
        if unknown:
            raise ConfigError(f"{source}: unknown key '{unknown[0]}'{_did_you_mean(unknown[0], ('HLSConfig', *PROJECT_KEYS))}"
                              "; an hls4ml config has HLSConfig (Model, LayerName) and project keys")
        data = data["HLSConfig"]
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: HLSConfig must be a mapping with 'Model' and/or 'LayerName'")
    _check_keys(data, ("Model", "LayerName", "LayerType", "Flows", "Optimizers", "SkipOptimizers"), source)
    model = data.get("Model") or {}
    if not isinstance(model, Mapping):
        raise ConfigError(f"{source}: 'Model' must be a mapping (Precision, ReuseFactor, Strategy)")
    _check_keys(model, MODEL_KEYS, f"{source} Model")
    if model.get("BitExact") not in (None, False):  # hls4ml 1.3 writes null; true re-derives every type
        raise ConfigError(f"{source} Model: BitExact {model['BitExact']!r} is not supported (hcp_fpga builds and prices "
                          "the config's types); leave the key out")
    bram_factor = model.get("BramFactor", _BRAM_FACTOR)
    if isinstance(bram_factor, bool) or not isinstance(bram_factor, (int, float)) or not bram_factor >= _BRAM_FACTOR:
        # below it, hls4ml makes larger weight arrays top-level ports (run-time weights), which the
        # export does not build and the estimate does not price
        raise ConfigError(f"{source} Model: BramFactor {bram_factor!r} is not supported; hcp_fpga builds weights as "
                          f"constants (hls4ml's default {_BRAM_FACTOR}); leave the key out")
    precision, maximum = model.get("Precision"), None
    if isinstance(precision, Mapping):
        _check_keys(precision, ("default", "maximum", *TYPE_KEYS, *TABLE_KEYS), f"{source} Model.Precision")
        for key, value in precision.items():  # each variable's type for every layer: applied by for_model
            if key not in ("default", "maximum") and value != "auto":
                _type(value, f"{source} Model.Precision.{key}")
        if precision.get("maximum") is not None:
            maximum = _type(precision["maximum"], f"{source} Model.Precision.maximum")
        precision = precision.get("default")
    precision = _type(precision, f"{source} Model.Precision") if precision is not None else None
    reuse = _reuse(model["ReuseFactor"], f"{source} Model") if "ReuseFactor" in model else None
    strategy = _strategy(model["Strategy"], f"{source} Model") if "Strategy" in model else None
    layers: dict[str, LayerPin] = {}
    notes: list[str] = [f"{source}: {', '.join(ignored)} not applied (the board and the options decide them)"] \
        if ignored else []
    layer_map = data.get("LayerName") or {}
    if not isinstance(layer_map, Mapping):
        raise ConfigError(f"{source}: 'LayerName' must map layer names to their settings")
    for name, cfg in layer_map.items():
        layers[str(name)] = _layer_pin(cfg, f"{source} LayerName.{name}", notes)
    layer_types = data.get("LayerType") or {}
    if not isinstance(layer_types, Mapping):
        raise ConfigError(f"{source}: 'LayerType' must map hls4ml layer classes (Dense, Conv2D, ...) to their settings")
    for cls, cfg in layer_types.items():
        _layer_pin(cfg, f"{source} LayerType.{cls}", notes)  # checked now; applied per layer by for_model
    return HlsConfig(precision, reuse, strategy, layers, tuple(ignored), source, tuple(notes), maximum, dict(data))


def load_hls_config(source: Union[str, Path, Mapping, HlsConfig]) -> HlsConfig:
    """A config from a YAML file, a mapping, or an ``HlsConfig`` (returned as is)."""
    if isinstance(source, HlsConfig):
        return source
    if isinstance(source, Mapping):
        return parse_hls_config(source)
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"hls4ml config '{path}' not found; pass a YAML file with Model/LayerName (docs/api.md)")
    data = read_yaml_mapping(path, f"hls4ml config '{path}'", "see docs/api.md for the schema", ConfigError,
                             loader=Hls4mlYamlLoader)  # a config hls4ml saved (a project's) carries its tags
    return parse_hls_config(data, f"hls4ml config '{path}'")


# ----------------------------------------------------------------------------- --reuse


@dataclass(frozen=True)
class ReuseRequest:
    """``--reuse``: a model-wide factor, per-layer factors, and whether invalid values snap to
    hls4ml's closest valid value (``auto``) instead of being refused."""

    default: Optional[int] = None
    layers: dict[str, int] = field(default_factory=dict)
    snap: bool = False


def parse_reuse(text: Union[str, int, Mapping, None]) -> ReuseRequest:
    """``16``, ``fc1=30,fc2=32``, ``16,auto``, ``auto`` (or an int / a mapping from Python)."""
    if text is None:
        return ReuseRequest()
    if isinstance(text, bool):
        raise ConfigError(f"reuse {text!r} is invalid; use e.g. 4, 'fc1=30,fc2=32' or '16,auto'")
    if isinstance(text, int):
        return ReuseRequest(_reuse(text, "reuse"))
    if isinstance(text, Mapping):
        return ReuseRequest(layers={str(k): _reuse(v, f"reuse of layer '{k}'") for k, v in text.items()})
    default, layers, snap = None, {}, False
    for item in str(text).split(","):
        item = item.strip()
        if item == "auto":
            snap = True
        elif "=" in item:
            name, _, value = item.partition("=")
            if not name.strip() or not value.strip().isdigit():
                raise ConfigError(f"--reuse item '{item}' is invalid; write NAME=RF, e.g. fc1=4")
            layers[name.strip()] = _reuse(int(value), f"--reuse {name.strip()}")
        elif item.isdigit():
            if default is not None:
                raise ConfigError(f"--reuse gives two model-wide factors ({default} and {item}); give one")
            default = _reuse(int(item), "--reuse")
        else:
            raise ConfigError(f"--reuse item '{item}' is invalid; use a number, NAME=RF or auto (e.g. 16,fc1=4,auto)")
    return ReuseRequest(default, layers, snap)
