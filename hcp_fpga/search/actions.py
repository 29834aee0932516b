"""Actions: transformations of a design point that register themselves (like hls4ml's optimizer
passes) and propose their own candidates from a point and its estimate. ``apply`` returns a new
model/settings/bits and leaves its inputs intact; it never fine-tunes (``evaluate`` does).

Each action has a ``prior``: its expected accuracy cost, used to rank candidates by estimated
saving per cost (settings changes 0.05, bits 0.2-0.3, pruning 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Optional

import numpy as np

from hcp_fpga.design import Design, HlsSettings, valid_reuse_factors
from hcp_fpga.models import mult_layers, mult_size

ACTIONS: dict[str, type["Action"]] = {}


def register(cls: type["Action"]) -> type["Action"]:
    """Class decorator: make an action known to the search (``ACTIONS[cls.kind]``)."""
    ACTIONS[cls.kind] = cls
    return cls


class Skip(Exception):
    """The action does not apply to this point (e.g. it would break a pinned reuse factor)."""


@dataclass(frozen=True)
class PointView:
    """What proposing needs: the point, its model and its measure (estimate totals, verdict)."""

    point: object  # DesignPoint
    model: object
    measure: object  # records.Measure
    improving: bool  # the search has a design that meets the targets: now it improves the objective


@dataclass(frozen=True)
class Applied:
    model: object
    masks: dict
    settings: HlsSettings
    bits: Optional[dict]


@dataclass(frozen=True)
class Action:
    kind: ClassVar[str] = ""
    name: str
    prior: float
    finetune: bool

    @classmethod
    def propose(cls, view: PointView, ctx) -> list["Action"]:  # pragma: no cover - every action overrides
        return []

    def apply(self, model, masks: dict, point, ctx, data) -> Applied:  # pragma: no cover
        raise NotImplementedError

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "Action":
        kind = d["kind"]
        fields = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
                  for k, v in d.items() if k != "kind"}
        return ACTIONS[kind](**fields)


def with_settings(model, masks: dict, point, ctx, settings: HlsSettings) -> Applied:
    """The point's model, masks and bits under new HLS settings, checked by hls4ml's rules
    (a ConfigError: the action does not apply)."""
    Design.create(model, ctx.board, settings).validate()
    return Applied(model, masks, settings, point.bits)


def propose_all(view: PointView, ctx) -> list[Action]:
    """Every registered action's candidates for this point, in registration order."""
    out: list[Action] = []
    for cls in ACTIONS.values():
        out += cls.propose(view, ctx)
    return out


# ----------------------------------------------------------------------------- quantize


@register
@dataclass(frozen=True)
class Quantize(Action):
    """Float -> QKeras, or one layer's bits down (``layer`` None: all layers to ``bits``). Layers
    whose weight type a user pinned stay as they are."""

    kind: ClassVar[str] = "quantize"
    layer: Optional[str] = None
    bits: tuple = (8, 8)

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        levers = ctx.config.levers
        w_min, w_max = levers.weight_bits
        a_min, a_max = levers.activation_bits
        bits, settings = view.point.bits, view.point.settings
        if bits is None and w_max < 32:
            start = (min(w_max, 8), min(a_max, 8))
            return [cls(f"quantize all to {start[0]}-bit", 0.2, True, None, start)]
        out: list[Action] = []
        for layer in mult_layers(view.model) if bits is not None else []:
            if settings.is_pinned(layer.name, "weight"):
                continue
            w, a = bits.get(layer.name, (w_max, a_max))
            if w - 2 >= w_min:
                new = (w - 2, max(a - 2, a_min))
                out.append(cls(f"{layer.name} to {new[0]}-bit", 0.3, True, layer.name, new))
        return out

    def apply(self, model, masks, point, ctx, data) -> Applied:
        from hcp_fpga.quantize import QuantSpec, to_qkeras

        settings = point.settings
        current = dict(point.bits or {})
        keep = frozenset(n for n in settings.pinned if settings.is_pinned(n, "weight"))
        names = [l.name for l in mult_layers(model) if l.name not in keep]
        new_bits = {n: (tuple(self.bits) if self.layer in (None, n) else tuple(current.get(n, self.bits))) for n in names}
        qmodel = to_qkeras(model, QuantSpec(layer_bits=new_bits, keep=keep), data.x_train)
        return Applied(qmodel, masks, refreshed_accumulators(qmodel, settings, ctx.board, data.x_train), new_bits)


# ----------------------------------------------------------------------------- input type


def _input_name(model) -> Optional[str]:
    names = list(getattr(model, "input_names", None) or [])
    return names[0] if len(names) == 1 else None


@register
@dataclass(frozen=True)
class InputType(Action):
    """The input layer's type narrowed to the exact type of the decision data (digits' integer
    pixels 0..16 fit ap_ufixed<5,5>): the first layer's multipliers get narrower operands, and
    nothing is rounded. Only where every training value is representable; the final C simulation
    on the test split checks the rest (and the precision repair widens the input if it falls short)."""

    kind: ClassVar[str] = "input_type"
    precision: str = ""

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        from hcp_fpga.estimator.precision import parse_fixed
        from hcp_fpga.quantize import exact_fixed_type
        from hcp_fpga.search.context import search_data

        name = _input_name(view.model)
        settings = view.point.settings
        if name is None or name in settings.layer_precision or settings.is_pinned(name, "result"):
            return []
        exact = exact_fixed_type(search_data(ctx.config).x_train)
        current = parse_fixed(settings.precision)
        if exact is None or parse_fixed(exact).width >= current.width:
            return []
        return [cls(f"input {name} to {exact} (exact)", 0.01, False, exact)]

    def apply(self, model, masks, point, ctx, data) -> Applied:
        from hcp_fpga.quantize import exact_fixed_type

        name = _input_name(model)
        if name is None or exact_fixed_type(data.x_train) != self.precision:
            raise Skip("the input data is not exactly representable")
        s = point.settings
        settings = replace(s, layer_precision={**s.layer_precision, name: self.precision})
        return with_settings(model, masks, point, ctx, settings)


# ----------------------------------------------------------------------------- prune


@register
@dataclass(frozen=True)
class Prune(Action):
    """Remove ``structure`` groups worth ``targets`` (estimated savings), the least-scored first;
    never more than half of a layer's remaining groups in one step."""

    kind: ClassVar[str] = "prune"
    structure: str = "unstructured"
    targets: tuple = ()  # ((resource, amount), ...)

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        from hcp_fpga.prune import sparsity

        levers = ctx.config.levers
        m = view.measure
        if sparsity(view.model) >= levers.max_sparsity:
            return []
        binding = m.binding
        use = m.resources[binding]
        excess = use - ctx.budget()[binding]
        if excess > 0:
            amount = min(max(excess, 0.05 * use), 0.2 * use)
        elif view.improving:  # past the fit: a tenth of the binding resource at a time
            amount = 0.1 * use
        else:
            amount = 0.0
        # and half of it, evaluated when the full step costs too much accuracy: one fine-tuning near
        # the accuracy floor decides, and a smaller step often passes where the larger one failed
        steps = [amount, amount / 2] if amount > 0 else []
        out = [cls(f"prune {s} ({binding} -{a:.0f})", 0.5, True, s, ((binding, a),))
               for a in steps for s in levers.prune_structures]
        search = ctx.config.search
        if view.improving and (search.objective == "ebops" or search.weights.get("ebops", 0) > 0) and m.ebops > 0:
            # EBOPs count every nonzero weight, whatever it costs in LUTs: target them directly
            # two step sizes: a large one while accuracy allows, a small one near the accuracy floor
            out += [cls(f"prune {s} (EBOPs -{f * m.ebops:.0f})", 0.5, True, s, (("ebops", f * m.ebops),))
                    for f in (0.1, 0.03) for s in levers.prune_structures]
        return out

    def apply(self, model, masks, point, ctx, data) -> Applied:
        from hcp_fpga.prune import apply_selection, candidates, select, sparsity, weight_scores

        scores = weight_scores(model, "taylor", data.x_train, data.y_train)
        c = candidates(model, point.settings, scores, self.structure, part=ctx.board.part)
        chosen = select(c, dict(self.targets), max_layer_fraction=0.5).chosen
        if len(chosen) == 0:
            raise Skip("nothing left to prune")
        new_model, new_masks = apply_selection(model, chosen)
        if sparsity(new_model) > ctx.config.levers.max_sparsity + 1e-9:
            raise Skip(f"would exceed max sparsity {ctx.config.levers.max_sparsity}")
        settings = snapped(new_model, point.settings)
        return Applied(new_model, new_masks, refreshed_accumulators(new_model, settings, ctx.board, data.x_train), point.bits)


def snapped(model, settings: HlsSettings) -> HlsSettings:
    """Settings whose per-layer reuse factors are valid for the (possibly shrunk) layers: an invalid
    one moves to hls4ml's closest valid value. A pinned one cannot move: the action does not apply."""
    from hcp_fpga.estimator.reuse import closest_valid

    reuse = dict(settings.layer_reuse)
    for layer in mult_layers(model):
        if layer.name in reuse:
            n_in, n_out = mult_size(layer)
            strategy = settings.strategy_of(layer.name)
            if strategy != "Latency" and reuse[layer.name] not in valid_reuse_factors(n_in, n_out, strategy):
                if settings.is_pinned(layer.name, "reuse"):
                    raise Skip(f"would make the pinned reuse factor {reuse[layer.name]} of '{layer.name}' invalid")
                reuse[layer.name] = closest_valid(n_in, n_out, reuse[layer.name], unrolled=strategy == "ResourceUnrolled")
    return replace(settings, layer_reuse=reuse)


# ----------------------------------------------------------------------------- reconfigure


def _next_rf(n_in: int, n_out: int, strategy: str, rf: int, limit: int) -> Optional[int]:
    bigger = [r for r in valid_reuse_factors(n_in, n_out, strategy) if rf < r <= limit]
    if not bigger:
        return None
    return min(bigger, key=lambda r: abs(r - 2 * rf))  # about twice the reuse: half the multipliers


def _previous_rf(n_in: int, n_out: int, strategy: str, rf: int, floor: int) -> Optional[int]:
    smaller = [r for r in valid_reuse_factors(n_in, n_out, strategy) if max(floor, 1) <= r < rf]
    if not smaller:
        return None
    return min(smaller, key=lambda r: abs(r - rf / 2))  # about half the reuse: twice the multipliers


@register
@dataclass(frozen=True)
class Reconfigure(Action):
    """New HLS settings for some layers (strategy and/or reuse factor); weights untouched."""

    kind: ClassVar[str] = "reconfigure"
    strategies: tuple = ()  # ((layer, strategy), ...)
    reuse: tuple = ()  # ((layer, rf), ...)

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        levers = ctx.config.levers
        settings = view.point.settings
        out: list[Action] = []
        for layer in mult_layers(view.model):
            if settings.is_pinned(layer.name, "reuse") or settings.is_pinned(layer.name, "strategy"):
                continue
            n_in, n_out = mult_size(layer)
            strategy, rf = settings.strategy_of(layer.name), settings.reuse_of(layer.name)
            if strategy == "Latency":
                for target in ("Resource", "ResourceUnrolled"):
                    if target in levers.strategies:
                        r = _next_rf(n_in, n_out, target, 1, levers.reuse_factor[1])
                        if r:
                            out.append(cls(f"{layer.name}: {target} RF {r}", 0.05, False, ((layer.name, target),),
                                           ((layer.name, r),)))
            else:
                r = _next_rf(n_in, n_out, strategy, rf, levers.reuse_factor[1])
                if r:
                    out.append(cls(f"{layer.name}: RF {rf} -> {r}", 0.05, False, (), ((layer.name, r),)))
                if view.improving:
                    # past the fit, the way back: fewer cycles for more multipliers (the objective and
                    # the budget judge whether the idle resource pays for it)
                    smaller = _previous_rf(n_in, n_out, strategy, rf, levers.reuse_factor[0])
                    if smaller:
                        out.append(cls(f"{layer.name}: RF {rf} -> {smaller}", 0.05, False, (), ((layer.name, smaller),)))
                    if "Latency" in levers.strategies and rf <= 4:
                        out.append(cls(f"{layer.name}: Latency RF 1", 0.05, False, ((layer.name, "Latency"),),
                                       ((layer.name, 1),)))
        return out

    def apply(self, model, masks, point, ctx, data) -> Applied:
        s = point.settings
        settings = replace(s, layer_strategy={**s.layer_strategy, **dict(self.strategies)},
                           layer_reuse={**s.layer_reuse, **dict(self.reuse)})
        return with_settings(model, masks, point, ctx, settings)


# ----------------------------------------------------------------------------- accumulators


def search_accumulators(settings: HlsSettings) -> frozenset:
    """Layers whose accumulator type the search chose (``Accumulators``), not the user."""
    return frozenset(n for n, t in settings.layer_types.items() if "accum" in t and not settings.is_pinned(n, "accum"))


def without_search_accumulators(settings: HlsSettings) -> HlsSettings:
    """``settings`` with the accumulators the search narrowed back to hls4ml's inferred ones (the
    precision repair starts from the lossless types)."""
    chosen = search_accumulators(settings)
    if not chosen:
        return settings
    types = {n: {k: v for k, v in t.items() if not (k == "accum" and n in chosen)} for n, t in settings.layer_types.items()}
    return replace(settings, layer_types={n: t for n, t in types.items() if t})


def profiled_accumulators(model, settings: HlsSettings, board, x) -> dict[str, str]:
    """Per Dense/Conv layer, an accumulator type with hls4ml's inferred fraction bits and just the
    integer bits its profiled sums need (largest |pre-activation| on ``x``, plus the sign and one
    bit of margin), where that is narrower than the inferred (lossless, worst-case) type. hls4ml's
    accumulators wrap (AP_WRAP): the sum is exact modulo 2^width, so only the final sum has to fit,
    not the partial sums. The final C simulation on the test split checks the margin; the precision
    repair goes back to the inferred types if it falls short."""
    from hcp_fpga.estimator.model import design_specs
    from hcp_fpga.quantize import integer_bits, profile_ranges

    base = without_search_accumulators(settings)
    specs = {sp.name: sp for sp in design_specs(Design.create(model, board, base))}
    ranges = profile_ranges(model, x)
    out = {}
    for layer in mult_layers(model):
        spec = specs.get(layer.name)
        if spec is None or spec.accum is None or settings.is_pinned(layer.name, "accum") or layer.name not in ranges:
            continue
        integer = integer_bits(ranges[layer.name]) + 2
        if integer < spec.accum.integer:
            out[layer.name] = f"ap_fixed<{integer + spec.accum.frac},{integer}>"
    return out


def with_accumulators(settings: HlsSettings, chosen: dict[str, str]) -> HlsSettings:
    types = {n: dict(t) for n, t in without_search_accumulators(settings).layer_types.items()}
    for name, accum in chosen.items():
        types.setdefault(name, {})["accum"] = accum
    return replace(settings, layer_types=types)


def refreshed_accumulators(model, settings: HlsSettings, board, x) -> HlsSettings:
    """Once the search has narrowed the accumulators, they follow the model: new weights or bits
    (Quantize, Prune, fine-tuning) move the ranges and fraction bits they were profiled on, so they
    are profiled again on the new model."""
    if not search_accumulators(settings):
        return settings
    return with_accumulators(settings, profiled_accumulators(model, settings, board, x))


@register
@dataclass(frozen=True)
class Accumulators(Action):
    """Every Dense/Conv accumulator narrowed to its profiled range (``profiled_accumulators``):
    narrower adder trees and accumulator registers, the same results on the profiled data."""

    kind: ClassVar[str] = "accumulators"

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        if not ctx.config.levers.accumulators or view.point.bits is None:
            return []  # a float model's ranges move with every later quantization: profile quantized ones
        if search_accumulators(view.point.settings):
            return []  # already narrowed: from now on they follow the model (refreshed_accumulators)
        return [cls("accumulators to their profiled ranges", 0.01, False)]

    def apply(self, model, masks, point, ctx, data) -> Applied:
        chosen = profiled_accumulators(model, point.settings, ctx.board, data.x_train)
        if not chosen:
            raise Skip("every accumulator is as narrow as its range allows")
        return Applied(model, masks, with_accumulators(point.settings, chosen), point.bits)


# ----------------------------------------------------------------------------- softmax table


@register
@dataclass(frozen=True)
class SoftmaxTable(Action):
    """The output softmax's lookup tables a quarter the size: fewer block RAMs (each exp-table copy
    serves two lookups). The validation accuracy sees what the coarser table does to the argmax
    (``fixed_softmax``: hls4ml's fixed-point softmax, bit-exact with its C simulation)."""

    kind: ClassVar[str] = "softmax_table"
    size: int = 1024

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        from hcp_fpga.estimator.spec import HLS4ML_TABLE_SIZE
        from hcp_fpga.fixed_softmax import output_softmax

        low = ctx.config.levers.min_softmax_table
        settings = view.point.settings
        current = settings.softmax_table_size or HLS4ML_TABLE_SIZE
        if output_softmax(view.model) is None or current // 4 < low or any(
                options.get("Skip") or options.get("Implementation", "stable") != "stable"
                for options in settings.layer_options.values()):
            return []  # (a softmax the user's config builds another way has no stable tables to shrink)
        return [cls(f"softmax table {current} -> {current // 4}", 0.05, False, current // 4)]

    def apply(self, model, masks, point, ctx, data) -> Applied:
        settings = replace(point.settings, softmax_table_size=self.size)
        return with_settings(model, masks, point, ctx, settings)


# ----------------------------------------------------------------------------- io type


@register
@dataclass(frozen=True)
class IoType(Action):
    """The whole design to the other hls4ml io type: io_parallel holds every activation in
    registers and computes a layer at once; io_stream passes activations through FIFOs, pixel by
    pixel (a convolution's line buffer instead of its whole input). The estimate decides which pays;
    the arithmetic is the same, so the accuracy too."""

    kind: ClassVar[str] = "io_type"
    io_type: str = "io_stream"

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        allowed = [str(t) for t in ctx.config.levers.io_types]
        current = view.point.settings.io_type
        return [cls(f"{current} -> {t}", 0.05, False, t) for t in allowed if t != current]

    def apply(self, model, masks, point, ctx, data) -> Applied:
        settings = replace(point.settings, io_type=self.io_type)
        return with_settings(model, masks, point, ctx, settings)


# ----------------------------------------------------------------------------- per-unit bits


@register
@dataclass(frozen=True)
class UnitBits(Action):
    """Finer bit widths than hls4ml's one type per layer: half of a quantized layer's finest units
    (the least important by Taylor score, the same score pruning uses) 2 bits coarser. Their
    weights move to a grid 2 bits coarser inside the layer's type (``quantize.snap_units``) and
    stay there through fine-tuning; their products need 2 bits fewer (fewer CSD digits, fewer
    EBOPs). Never below ``levers.weight_bits``' minimum."""

    kind: ClassVar[str] = "unit_bits"
    layer: str = ""

    @classmethod
    def propose(cls, view: PointView, ctx) -> list[Action]:
        from hcp_fpga.quantize import finest_units

        bits, settings = view.point.bits, view.point.settings
        if bits is None:
            return []
        w_min = ctx.config.levers.weight_bits[0]
        out: list[Action] = []
        for layer in mult_layers(view.model):
            if settings.is_pinned(layer.name, "weight") or layer.name not in bits:
                continue
            finest = finest_units(layer)
            if finest is not None and bits[layer.name][0] - finest[0] - 2 >= w_min:
                out.append(cls(f"{layer.name}: half its {bits[layer.name][0] - finest[0]}-bit units 2 bits coarser", 0.25,
                               True, layer.name))
        return out

    def apply(self, model, masks, point, ctx, data) -> Applied:
        from hcp_fpga.models import copy_model
        from hcp_fpga.prune import weight_scores
        from hcp_fpga.quantize import finest_units, snap_units

        new = copy_model(model)
        layer = new.get_layer(self.layer)
        finest = finest_units(layer)
        if finest is None:
            raise Skip(f"'{self.layer}' has no quantized_bits kernel with a live unit")
        shift, units = finest
        kernel = layer.get_weights()[0]
        score = np.abs(weight_scores(model, "taylor", data.x_train, data.y_train)[self.layer]).reshape(-1, kernel.shape[-1]).sum(axis=0)
        chosen = units[np.argsort(score[units], kind="stable")[:max(1, len(units) // 2)]]
        plan = np.zeros(kernel.shape[-1], dtype=np.int64)  # only the chosen units move
        plan[chosen] = shift + 2
        snap_units(layer, plan)
        return Applied(new, masks, refreshed_accumulators(new, point.settings, ctx.board, data.x_train), point.bits)
