"""Cost-model constants per HLS backend, each with where it came from.

Fitted constants come from real reports in ../shared (triples: Vivado HLS 2019.2 Latency-strategy
jet taggers; calibration: wa-hls4ml Vitis 2023.2 Resource-strategy dense networks). See
docs/estimator.md for the fits and their measured errors.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostConstants:
    # --- multipliers -----------------------------------------------------------------------
    # Latency strategy: a constant multiplication becomes a DSP only if its mantissa has at least
    # this many nonzero CSD digits (fewer: shifts and adds in LUTs). Triples: within 5 % per layer.
    dsp_min_csd_digits: int = 3
    # ... and only if the other operand is at least this wide: in jet-qkeras6-pruned75 the layers
    # fed by 6-bit activations use 0 DSP, the layer fed by 16-bit inputs uses them.
    dsp_min_input_bits: int = 10
    # Resource strategy: each parallel multiplier is a DSP from this weight width up (wa-hls4ml
    # calibration, Vitis 2023.2: 8-bit weights use DSPs, 6-bit ones do not; hls4ml's own
    # VivadoDSPEstimator assumes 9 for Vivado).
    resource_dsp_min_weight_bits: int = 8
    # --- LUT, Latency dense (least squares over 17 dense layers of 5 triples) ----------------
    lut_per_tree_bit: float = 0.726  # adder tree: per adder bit (sum over outputs of (nonzero inputs - 1) x acc bits)
    lut_per_shift_add_bit: float = 1.297  # LUT multipliers: per (CSD digits - 1) adder of (input bits + 6)
    lut_per_dsp: float = 11.9  # glue per DSP product (0.744 per bit of a 16-bit result)
    # --- FF, Latency dense -------------------------------------------------------------------
    ff_per_dsp: float = 3.85  # least squares over the same 17 layers (pipelining is noisy per layer)
    ff_per_stage_bit: float = 0.8  # registers between layers: per output element bit (jet rf1 top level)
    # --- Resource strategy LUT/FF per dense layer (benchmarks/fit_resource.py: non-negative least
    # squares on half of the wa-hls4ml Vitis 2023.2 sample; held-out SMAPE LUT 8.7 %, FF 7.2 %).
    # A per-layer constant and a LUT-multiplier term were in the fit and came out 0.
    resource_lut_per_input_bit: float = 1.686  # input selection muxes: n_in x input bits
    resource_lut_per_acc_bit: float = 6.40  # accumulators and output logic: n_out x accumulator bits
    resource_ff_per_input_bit: float = 2.429
    resource_ff_per_acc_bit: float = 3.436
    # --- activations (io_parallel) -------------------------------------------------------------
    lut_relu_per_bit: float = 1.75  # jet rf1: ReLU on 64 x 16 bit = 1,792 LUT
    lut_relu_round_sat_per_input_bit: float = 3.8  # quantized ReLU (round + saturate), jet-qkeras6: 56-65 per element of 16 bits
    lut_softmax_per_output: float = 130.0  # jet rf1 stable softmax, 5 outputs: 664 LUT
    ff_softmax_per_output: float = 47.0  # same: 236 FF
    bram_width_bits: int = 18  # softmax tables are 18-bit wide (hls4ml default table types)
    # --- latency ------------------------------------------------------------------------------
    latency_dense_cycles: int = 2  # Latency strategy, RF 1 (pipeline depth per dense layer)
    latency_resource_extra_cycles: int = 2  # Resource strategy: RF + this per layer (calibration)
    latency_activation_cycles: int = 1
    latency_softmax_cycles: int = 3


VIVADO = CostConstants()
VITIS = CostConstants()

BACKENDS = {"Vivado": VIVADO, "Vitis": VITIS}


def constants_for(backend: str) -> CostConstants:
    return BACKENDS.get(backend, VIVADO)
