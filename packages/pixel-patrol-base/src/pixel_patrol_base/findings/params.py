"""Every rule's settings: default, type, meaning and source, and how the user's values resolve.

One table (:data:`RULES`) drives the defaults, the validation of the expectations file's
``[thresholds]`` tables, the per-condition overrides and the documentation, so a threshold
cannot exist in the code without a default, a source and a setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODZ_SOURCE = (
    "Iglewicz & Hoaglin (1993), How to Detect and Handle Outliers, ASQC: modified z-score "
    "0.6745·(x − median)/MAD, |M| > 3.5 flags an outlier"
)
CLIFF_SOURCE = (
    "Romano et al. (2006), Appropriate statistics for ordinal level data, FAIR conference: "
    "|δ| ≥ 0.474 is a large effect; Mann & Whitney (1947); Bonferroni correction"
)
CLIP_SOURCE = (
    "convention of this tool (0.1 % warns, 1 % is an error); why saturated pixels invalidate "
    "intensity measurements: Waters (2009), J Cell Biol 185:1135"
)


@dataclass(frozen=True, slots=True)
class Param:
    """One setting of one rule: its default, the TOML type it takes and why this default."""

    default: Any
    kind: str
    """``float``, ``int``, ``bool``, ``str`` or ``list[str]``."""
    doc: str
    source: str = "convention of this tool"


def _enabled() -> Param:
    return Param(True, "bool", "Run this rule.")


LOSSY = ["jpg", "jpeg", "jpe", "jfif", "webp", "heic", "avif"]
OUTLIER_METRICS = [
    "mean_intensity",
    "std_intensity",
    "michelson_contrast",
    "mscn_variance",
    "texture_heterogeneity",
]
SHIFT_METRICS = [*OUTLIER_METRICS, "laplacian_variance"]

RULES: dict[str, dict[str, Param]] = {
    "unreadable": {"enabled": _enabled()},
    "clipped": {
        "enabled": _enabled(),
        "warning": Param(0.001, "float", "Fraction of pixels at the bit-depth maximum (or the type's minimum) that gives a warning.", CLIP_SOURCE),
        "error": Param(0.01, "float", "Fraction that gives an error.", CLIP_SOURCE),
        "low_end": Param(True, "bool", "Also flag pixels at the type's minimum (black clipping)."),
    },
    "blank": {
        "enabled": _enabled(),
        "modz": Param(-3.5, "float", "A slice whose std/p99 has a modified z-score below this within its stack is signal-free.", MODZ_SOURCE),
        "min_slices": Param(5, "int", "Fewest slices in a stack for the modified z-score test."),
        "max_ratio": Param(0.5, "float", "…and its std/p99 must also be below this fraction of the stack's median (a floor on the effect, so homogeneous stacks do not flag small dips)."),
    },
    "focus": {
        "enabled": _enabled(),
        "min_slices": Param(5, "int", "Fewest Z slices for the best-focus test."),
        "peak_ratio": Param(1.5, "float", "The sharpest slice must exceed the stack's median laplacian_variance by this factor to count as a focus peak (Pertuz et al. 2013, Pattern Recognit. 46:1415, on the Laplacian as focus measure)."),
        "min_frames": Param(5, "int", "Fewest T frames for the sharpness-collapse test."),
        "collapse_ratio": Param(0.5, "float", "A frame whose laplacian_variance falls below this fraction of the series median has lost focus."),
    },
    "blurry": {
        "enabled": _enabled(),
        "modz": Param(-3.5, "float", "Modified z-score of log10(laplacian_variance) within condition, channel and dtype below which an image is blurry.", MODZ_SOURCE),
        "min_images": Param(10, "int", "Fewest images in the group for the test (the MAD of fewer values is too unstable)."),
        "max_ratio": Param(0.5, "float", "…and its laplacian_variance must also be below this fraction of the group's median."),
    },
    "outlier": {
        "enabled": _enabled(),
        "modz": Param(3.5, "float", "|modified z-score| of a metric within condition, channel and dtype above which an image is an outlier.", MODZ_SOURCE),
        "min_images": Param(10, "int", "Fewest images in the group for the test (the MAD of fewer values is too unstable)."),
        "metrics": Param(OUTLIER_METRICS, "list[str]", "Report columns compared."),
        "min_change": Param(0.5, "float", "…and the value must differ from the group's median by at least this fraction of the median (a floor on the effect: in a very homogeneous group a tiny difference has a large z)."),
    },
    "duplicate": {"enabled": _enabled()},
    "near-duplicate": {
        "enabled": _enabled(),
        "max_hamming": Param(4, "int", "Largest Hamming distance (of 64 bits) between perceptual hashes of the thumbnails.", "Zauner (2010), Implementation and Benchmarking of Perceptual Image Hash Functions (DCT hash)"),
    },
    "inconsistent": {
        "enabled": _enabled(),
        "pixel_size_tolerance": Param(0.01, "float", "Relative pixel-size difference from the condition's majority that counts as different."),
        "exposure_tolerance": Param(0.10, "float", "Relative exposure-time difference that counts as different."),
    },
    "missing-metadata": {
        "enabled": _enabled(),
        "screen_dpi": Param([72, 96, 150, 300], "list[int]", "Screen/printer resolutions whose µm-per-pixel (25400/dpi) is not a calibration.", "TIFF 6.0 XResolution/ResolutionUnit; image editors write 72 or 96 dpi by default"),
        "dpi_tolerance": Param(0.005, "float", "Relative tolerance for matching 25400/dpi."),
    },
    "non-finite": {"enabled": _enabled()},
    "low-range": {
        "enabled": _enabled(),
        "fraction": Param(0.05, "float", "(p99 − p1) / (2^b − 1) below this is an under-used dynamic range."),
    },
    "condition-shift": {
        "enabled": _enabled(),
        "alpha": Param(0.05, "float", "Family-wise significance level (Bonferroni over all tests).", CLIFF_SOURCE),
        "cliffs_delta": Param(0.47, "float", "Smallest |Cliff's δ| reported (large effect).", CLIFF_SOURCE),
        "min_images": Param(5, "int", "Fewest images on each side of a test."),
        "metrics": Param(SHIFT_METRICS, "list[str]", "Report columns compared."),
    },
    "uneven-conditions": {
        "enabled": _enabled(),
        "ratio": Param(1.5, "float", "Largest condition's file count over this condition's at or above which it is flagged."),
    },
    "mixed-formats": {
        "enabled": _enabled(),
        "lossy_extensions": Param(LOSSY, "list[str]", "Extensions of lossy formats."),
    },
    "expectation": {"enabled": _enabled()},
}
"""Rule id → setting name → :class:`Param`; the ids are the findings' ids."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings: defaults, then the file's ``[thresholds]``, then a condition's own."""

    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    by_condition: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    def get(self, rule: str, name: str, condition: str | None = None) -> Any:
        """The value of ``rule.name`` for ``condition`` (dataset-wide when None)."""
        if condition is not None:
            own = self.by_condition.get(condition, {}).get(rule, {})
            if name in own:
                return own[name]
        if name in self.overrides.get(rule, {}):
            return self.overrides[rule][name]
        return RULES[rule][name].default

    def per_condition(self, rule: str, name: str, conditions: list[str]) -> list[Any]:
        """The value for each of ``conditions`` (for vectorised comparisons)."""
        return [self.get(rule, name, c) for c in conditions]

    def enabled(self, rule: str) -> bool:
        """Whether the rule runs at all (dataset-wide switch)."""
        return bool(self.get(rule, "enabled"))


def check_value(kind: str, value: Any) -> bool:
    """Whether a TOML value has the declared kind (ints are accepted where floats are)."""
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind.startswith("list["):
        inner = kind[5:-1]
        return isinstance(value, list) and all(check_value(inner, v) for v in value)
    return False
