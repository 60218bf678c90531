"""What every rule receives: the report's arrays, the resolved settings and shared derivations."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pixel_patrol_base.findings.bitdepth import BitDepth, bit_depths
from pixel_patrol_base.findings.frame import Frame
from pixel_patrol_base.findings.params import Settings


@dataclass
class Context:
    """One check run's inputs; derived values are computed once, when a rule first asks."""

    frame: Frame
    settings: Settings = field(default_factory=Settings)

    @cached_property
    def bits(self) -> BitDepth:
        """True bit depth and saturation values per row."""
        return bit_depths(self.frame)

    @cached_property
    def conditions(self) -> list[str]:
        """Condition labels indexed by condition code ('.' for rows without one)."""
        return [*self.frame.cond.values]

    def per_row(self, rule: str, name: str, rows: np.ndarray) -> np.ndarray:
        """A setting's value for each of ``rows`` (per-condition overrides applied)."""
        values = [self.settings.get(rule, name, c) for c in self.conditions]
        table = np.array([*values, self.settings.get(rule, name)], dtype=np.float64)
        result: np.ndarray = table[self.frame.cond.codes[rows]]
        return result

    def cond_label(self, code: int) -> str:
        """The label of condition ``code`` ('.' for none)."""
        return self.conditions[code] if code >= 0 else "."
