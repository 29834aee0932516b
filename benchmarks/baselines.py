"""Rebuild the designs of hls4ml's CI synthesis baselines (../shared/reports/hls4ml-synthesis-baselines)
from their ``cases.yaml`` description, so the estimator can be measured on them.

The weights were random draws that were not stored: we draw them again from the stated initializers
(seeded), so weight-dependent counts (constant multiplications) can differ a little from the run
that made the report (the cases file says hls4ml's own CI tolerates 10 % for this reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import yaml

SHARED = Path(__file__).resolve().parents[2] / "shared"
BASELINES = SHARED / "reports" / "hls4ml-synthesis-baselines"
SUPPORTED = {"Dense", "Activation", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "ELU", "LeakyReLU", "PReLU", "MaxPooling1D", "MaxPooling2D",
             "AveragePooling1D", "AveragePooling2D"}


@dataclass
class Case:
    file: Path
    backend: str
    tool_version: str
    io_type: str
    strategy: str
    test: str
    layers: list
    input_shape: tuple
    skip: Optional[str] = None


def cases() -> Iterator[Case]:
    data = yaml.safe_load((BASELINES / "cases.yaml").read_text())
    for c in data["cases"]:
        params = c["parameters"]
        io_type = str(params.get("io_type", "io_parallel")).split()[0]
        classes = {l["class"] for l in c["model"]["layers"]}
        skip = None
        if c["backend"] == "oneAPI":
            skip = "oneAPI (Intel) report: ALUT/REG/RAM, no Xilinx resource kinds"
        elif classes - SUPPORTED:
            skip = f"layers not modelled: {', '.join(sorted(classes - SUPPORTED))}"
        yield Case(BASELINES / c["file"], c["backend"], str(c["tool_version"]), io_type, params.get("strategy", "Latency"),
                   c["test"], c["model"]["layers"], tuple(c["model"]["input_shape"]), skip)


def _initializer(text: str, seed: int):
    import tensorflow as tf

    if text.startswith("RandomUniform"):
        lo, hi = (float(v) for v in re.findall(r"=\s*([-\d.]+)", text))
        return tf.keras.initializers.RandomUniform(lo, hi, seed=seed)
    if text.startswith("glorot_uniform"):
        return tf.keras.initializers.GlorotUniform(seed=seed)
    if "normal" in text.lower():
        return tf.keras.initializers.RandomNormal(0.0, 0.05, seed=seed)
    return tf.keras.initializers.LecunUniform(seed=seed)


def build(case: Case, seed: int = 42):
    """The case's Keras model (weights drawn again, seeded)."""
    import tensorflow as tf

    L = tf.keras.layers
    layers = [L.InputLayer(case.input_shape)]
    for i, spec in enumerate(case.layers):
        cls = spec["class"]
        if cls == "Dense":
            layers.append(L.Dense(spec["units"], kernel_initializer=_initializer(spec["kernel_initializer"], seed + i)))
        elif cls == "Conv2D":
            layers.append(L.Conv2D(spec["filters"], tuple(spec["kernel_size"]), strides=tuple(spec["strides"]),
                                   padding=spec["padding"], kernel_initializer=_initializer(spec["kernel_initializer"], seed + i)))
        elif cls in ("DepthwiseConv1D", "DepthwiseConv2D"):
            # the cases leave these at Keras defaults (stride 1, 'valid', depth_multiplier 1)
            layers.append(getattr(L, cls)(spec["kernel_size"] if cls.endswith("1D") else tuple(spec["kernel_size"]),
                                          depthwise_initializer=_initializer(spec["depthwise_initializer"], seed + i)))
        elif cls == "Activation":
            layers.append(L.Activation(spec["activation"]))
        elif cls == "ELU":
            layers.append(L.ELU(alpha=float(spec.get("alpha", 1.0))))
        elif cls == "LeakyReLU":
            layers.append(L.LeakyReLU(alpha=float(spec.get("alpha", 0.3))))
        elif cls == "PReLU":
            layers.append(L.PReLU())
        else:  # pooling
            pool = tuple(int(v) for v in re.findall(r"\d+", str(spec["pool_size"]).split("(")[0]))
            stride = tuple(int(v) for v in re.findall(r"\d+", str(spec["strides"]).split("(")[0]))
            two_d = cls.endswith("2D")
            pool, stride = (pool * 2 if two_d and len(pool) == 1 else pool), (stride * 2 if two_d and len(stride) == 1 else stride)
            layers.append(getattr(L, cls)(pool_size=pool, strides=stride, padding=spec["padding"]))
    return tf.keras.Sequential(layers)


def real(case: Case):
    from hcp_fpga.estimator.reports import parse_baseline_json

    return parse_baseline_json(case.file)


def estimate(case: Case, model):
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.model import estimate_specs
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import apply_project_precisions, layer_specs

    # hls4ml defaults the tests used: ap_fixed<16,6>, RF 1, default tables, part xcvu13p, 5 ns
    settings = HlsSettings(backend=case.backend, strategy=case.strategy, io_type=case.io_type, clock_ns=5.0,
                           softmax_table_size=None)
    tool = f"{'Vivado HLS' if case.backend == 'Vivado' else 'Vitis HLS'} {case.tool_version}"  # what built the baseline
    # the tests convert with config_from_keras_model(granularity='model'): no layer entries, so hls4ml
    # gives every result and accumulator the model default (checked with hls4ml 1.3), not 'auto' types
    specs = apply_project_precisions(layer_specs(model, settings), {}, Fixed(16, 6))
    return estimate_specs(specs, case.backend, 5.0, "xcvu13p-flga2577-2-e", tool=tool)


if __name__ == "__main__":
    all_cases = list(cases())
    print(f"{len(all_cases)} cases; skipped: {sum(c.skip is not None for c in all_cases)}")
    for c in all_cases:
        if c.skip:
            print(f"  skip {c.file.name}: {c.skip}")
