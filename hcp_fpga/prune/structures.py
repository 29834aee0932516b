"""Prunable structures: how a layer's kernel splits into groups the hardware can drop together.

| structure | group | what the hardware stops paying for |
|---|---|---|
| ``unstructured`` | one weight | its multiplier and adder (Latency strategy; ResourceUnrolled only via whole slots) |
| ``neuron`` | a Dense unit / Conv filter (a kernel column) | the unit itself, and the next layer's inputs from it, under any strategy |
| ``pattern`` | the weights one multiplier processes under Resource/ResourceUnrolled at reuse factor RF | one DSP under ResourceUnrolled |
| ``bram_block`` | adjacent patterns whose weights share one 36-bit BRAM word | one BRAM column and its DSPs under ResourceUnrolled |

The pattern layout is hls4ml's: the Resource kernels read the kernel transposed and flattened,
``w_index = ir + RF * im`` for cycle ``ir`` and multiplier ``im`` (``nnet_dense_resource.h``), so
multiplier ``im`` processes the ``RF`` consecutive weights ``[im * RF, (im + 1) * RF)`` of ``W.T``:
the rows of the ``(n_in * n_out / RF, RF)`` reshape that hls4ml's unrolled code generator skips when
they are all zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hcp_fpga.errors import ConfigError

STRUCTURES = ("unstructured", "neuron", "pattern", "bram_block")
BRAM_WORD_BITS = 36  # a BRAM18 port is 36 bits wide at depth 512 (two 18-bit weights, four 9-bit...)


@dataclass(frozen=True)
class LayerGroups:
    """The groups of one layer's kernel: ``ids`` has the kernel's shape and gives each weight's group."""

    layer: str
    structure: str
    ids: np.ndarray
    n_groups: int
    reuse_factor: int = 1

    def mask_without(self, groups) -> np.ndarray:
        """A 0/1 kernel mask with ``groups`` removed."""
        return (~np.isin(self.ids, np.asarray(list(groups), dtype=np.int64))).astype(np.float32)

    def members(self, group: int) -> np.ndarray:
        return self.ids == group


def mult_view_shape(kernel_shape: tuple) -> tuple[int, int]:
    """(n_in, n_out) of the multiplier array: conv kernels (k..., C, F) flatten to (k*C, F)."""
    n_in = int(np.prod(kernel_shape[:-1]))
    return n_in, int(kernel_shape[-1])


def pattern_ids(kernel_shape: tuple, reuse_factor: int) -> np.ndarray:
    """Multiplier slot of each weight under hls4ml's Resource layout (see the module docstring)."""
    n_in, n_out = mult_view_shape(kernel_shape)
    if reuse_factor < 1 or (n_in * n_out) % reuse_factor:
        raise ConfigError(
            f"reuse factor {reuse_factor} does not divide the {n_in}x{n_out} kernel; pattern pruning needs one that does "
            "(hcp_fpga.design.valid_reuse_factors lists them)"
        )
    i, o = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
    transposed_index = o * n_in + i  # position in W.T flattened
    return (transposed_index // reuse_factor).reshape(kernel_shape)


def layer_groups(layer_name: str, kernel_shape: tuple, structure: str, reuse_factor: int = 1,
                 weight_bits: int = 16) -> LayerGroups:
    """The groups of a kernel of ``kernel_shape`` for ``structure``."""
    if structure not in STRUCTURES:
        raise ConfigError(f"unknown prune structure '{structure}'; use one of {', '.join(STRUCTURES)}")
    kernel_shape = tuple(int(d) for d in kernel_shape)
    n_in, n_out = mult_view_shape(kernel_shape)
    if structure == "unstructured":
        ids = np.arange(n_in * n_out).reshape(kernel_shape)
    elif structure == "neuron":
        ids = np.broadcast_to(np.arange(n_out), kernel_shape).copy()
    else:
        ids = pattern_ids(kernel_shape, reuse_factor)
        if structure == "bram_block":
            ids = ids // max(1, BRAM_WORD_BITS // weight_bits)
    return LayerGroups(layer_name, structure, ids, int(ids.max()) + 1, reuse_factor)


def structure_for(strategy: str, reuse_factor: int) -> str:
    """The structure whose removal the layer's strategy turns into savings: single weights under
    Latency (HLS drops constant zeros), multiplier patterns under ResourceUnrolled (hls4ml skips
    all-zero slots), whole neurons under plain Resource (its kernel multiplies zeros too)."""
    if strategy == "ResourceUnrolled" and reuse_factor > 1:
        return "pattern"
    if strategy == "Resource" and reuse_factor > 1:
        return "neuron"
    return "unstructured"
