"""Checkpoints: the completed blocks of a run, saved as they arrive, so that an interrupted run
resumes where it stopped with byte-identical results."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import PmosimError
from .outcome import Block, DriverSums

__all__ = ["Checkpoint"]

_BLOCK_ARRAYS = (
    "finish",
    "first_start",
    "cost",
    "occurred",
    "fork",
    "busy",
    "overload",
    "waiting",
    "capacity",
    "final_capacity",
    "trace",
    "keys",
)
_DRIVER_ARRAYS = ("key", "critical", "m", "sum_d", "sum_dd", "sum_f", "sum_ff", "sum_df")


class Checkpoint:
    """Completed blocks of one run, saved as ``.npz`` (no pickle) beside a manifest."""

    def __init__(self, folder: Path, key: dict[str, object]) -> None:
        self.folder = Path(folder)
        self.key = key

    def differs(self) -> list[str]:
        """How a saved checkpoint's run differs from this one (``field: there, here``);
        empty when there is none, it is unreadable, or it is this run's."""
        try:
            saved = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(saved, dict):
            return []
        return [
            f"{name}: {saved.get(name)} there, {value} here"
            for name, value in self.key.items()
            if saved.get(name) != value
        ]

    def load(self, n_blocks: int) -> list[Block]:
        """The saved blocks 0, 1, ... up to the first missing or unreadable one; an
        existing checkpoint of another run is cleared."""
        manifest = self.folder / "manifest.json"
        try:
            same = json.loads(manifest.read_text(encoding="utf-8")) == self.key
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(self.folder, ignore_errors=True)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = manifest.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.key), encoding="utf-8")
                os.replace(tmp, manifest)
            except OSError as e:
                raise PmosimError(
                    f"cannot write the checkpoint {self.folder}: {e.strerror or e}"
                ) from e
            return []
        blocks = []
        for k in range(n_blocks):
            try:
                with np.load(self.folder / f"block-{k:06d}.npz", allow_pickle=False) as z:
                    drivers = DriverSums(
                        int(z["d_n"]),
                        int(z["d_tasks"]),
                        *(z[f"d_{name}"] for name in _DRIVER_ARRAYS),
                    )
                    fields = {name: z[name] for name in _BLOCK_ARRAYS}
                    blocks.append(Block(**fields, horizon=float(z["horizon"]), drivers=drivers))
            except (OSError, ValueError, KeyError):
                break
        return blocks

    def save(self, k: int, blk: Block) -> None:
        arrays = {name: getattr(blk, name) for name in _BLOCK_ARRAYS}
        arrays |= {f"d_{name}": getattr(blk.drivers, name) for name in _DRIVER_ARRAYS}
        arrays |= {"d_n": np.array(blk.drivers.n), "d_tasks": np.array(blk.drivers.tasks)}
        arrays |= {"horizon": np.array(blk.horizon)}
        final = self.folder / f"block-{k:06d}.npz"
        tmp = self.folder / f".block-{k:06d}.tmp.npz"
        try:
            np.savez(tmp, **arrays)
            os.replace(tmp, final)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise PmosimError(f"cannot write the checkpoint {final}: {e.strerror or e}") from e
