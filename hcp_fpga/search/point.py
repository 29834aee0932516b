"""``DesignPoint``: one design of the search, frozen and serialisable. The model lives on disk
(``points/<id>/model.json`` + weights + ``masks.npz``), so a point can be handed to another process
or machine (a Dask worker) by value and a run can resume from its folder."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from hcp_fpga.design import HlsSettings
from hcp_fpga.outputs import write_json_atomic

POINTS = "points"


@dataclass(frozen=True)
class DesignPoint:
    """``id`` (0 = the baseline), the point it was made from, the action that made it, its HLS
    settings and bits per layer ((weight, activation); None: float)."""

    id: int
    parent: Optional[int]
    action: str
    settings: HlsSettings
    bits: Optional[dict] = None

    def folder(self, root: Path | str) -> Path:
        return Path(root) / POINTS / f"{self.id:05d}"

    def as_dict(self) -> dict:
        return {"id": self.id, "parent": self.parent, "action": self.action, "settings": asdict(self.settings),
                "bits": {k: list(v) for k, v in self.bits.items()} if self.bits else None}

    @classmethod
    def from_dict(cls, d: dict) -> "DesignPoint":
        if not isinstance(d, dict) or not isinstance(d.get("settings"), dict) or not isinstance(d.get("bits") or {}, dict):
            raise ValueError("a design point record is a mapping with its settings")  # a damaged point.json
        bits = {k: tuple(v) for k, v in d["bits"].items()} if d.get("bits") else None
        return cls(int(d["id"]), d.get("parent"), str(d["action"]), HlsSettings(**d["settings"]), bits)

    def save(self, root: Path | str, model, masks: dict) -> None:
        """Write the point (model, masks, point.json) into its folder, whole or not at all: a
        folder is written beside and renamed into place, so a killed worker leaves no half point."""
        from hcp_fpga.models import write_model

        final = self.folder(root)
        tmp = final.with_name(final.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        write_model(model, tmp)
        np.savez_compressed(tmp / "masks.npz", **masks)
        write_json_atomic(tmp / "point.json", self.as_dict())
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    def load_model(self, root: Path | str) -> tuple[object, dict]:
        """(model, masks) of this point."""
        from hcp_fpga.models import load_model

        folder = self.folder(root)
        model = load_model(folder / "model.json", folder / "model_weights.h5")
        with np.load(folder / "masks.npz", allow_pickle=False) as z:
            masks = {k: z[k] for k in z.files}
        return model, masks

    @classmethod
    def load(cls, root: Path | str, point_id: int) -> "DesignPoint":
        path = Path(root) / POINTS / f"{point_id:05d}" / "point.json"
        return cls.from_dict(json.loads(path.read_text()))
