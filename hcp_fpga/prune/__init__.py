"""Hardware-coupled pruning: scores rank weights, structures group them the way the hardware can
drop them, the estimator prices each group, selection picks under a budget, and three phases
(before, during, after training) apply it. See docs/pruning.md."""

from hcp_fpga.prune.apply import apply_selection, remove_units, zero_groups
from hcp_fpga.prune.masks import mask_callback, masks_of, sparsity, with_masks
from hcp_fpga.prune.schedule import (
    GradualPruning, finetune, polynomial_sparsity, prune_and_finetune, prune_at_init, train_with_gradual_pruning,
)
from hcp_fpga.prune.scores import SCORES, gradients, group_scores, importance, weight_scores
from hcp_fpga.prune.select import Candidates, Selection, candidates, select, select_fraction
from hcp_fpga.prune.structures import STRUCTURES, LayerGroups, layer_groups, structure_for

__all__ = [
    "apply_selection", "remove_units", "zero_groups", "mask_callback", "masks_of", "sparsity", "with_masks",
    "GradualPruning", "finetune", "polynomial_sparsity", "prune_and_finetune", "prune_at_init",
    "train_with_gradual_pruning", "SCORES", "gradients", "group_scores", "importance", "weight_scores", "Candidates",
    "Selection", "candidates", "select", "select_fraction", "STRUCTURES", "LayerGroups", "layer_groups", "structure_for",
]
