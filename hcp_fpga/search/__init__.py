"""The optimize search, as a sequence of named steps (FINN-style) over one frozen design point:

- ``point.DesignPoint``: a model on disk (JSON + weights + masks) with its HLS settings and bits;
  frozen, saved to and loaded from ``<out>/points/<id>/``. Every evaluated design is kept.
- ``actions``: transformations that register themselves (``@register``) and propose their own
  candidates from a point and its estimate (quantize, prune, reconfigure, ...).
- ``evaluate.screen`` / ``evaluate.evaluate``: pure functions of a task (apply; fine-tune; validate
  on the validation split; estimate) returning typed records (``records.Trial``). They run on an
  executor (``executors``: serial, or Dask on a LocalCluster or an existing scheduler).
- ``objectives``: what "better" means once a design fits; ``pareto``: the front of all evaluations.

``hcp_fpga.loop.run_loop`` drives them: baseline, rounds of a beam search until the design fits
and then until the objective stops improving, then the final export, C simulation and precision
repair.
"""
