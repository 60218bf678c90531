"""Histograms, distributions, comparisons and trends of the HTML report against numpy and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from html_tables import META, float_histogram, int_histogram, table
from scipy import stats as sps

from pixel_patrol_base.html import agg_dist, agg_hist, agg_trends, stats
from pixel_patrol_base.html.frame import build_frame


def image_row(path: str, cond: str, pixels: np.ndarray, dtype: str, **extra: object) -> dict[str, object]:
    if np.dtype(dtype).kind == "f":
        lo, hi, counts, nan = float_histogram(pixels)
    else:
        (lo, hi, counts), nan = int_histogram(pixels, dtype), 0
    return {"imported_path": path, "path": cond, "obs_level": 0, "dtype": dtype, "histogram_min": lo, "histogram_max": hi,
            "histogram_counts": counts, "histogram_nan_count": nan, **extra}


def test_shared_edges_are_summed_exactly() -> None:
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, 500).astype(np.uint8) for _ in range(5)]
    f = build_frame(table([image_row(f"i{k}", "a" if k < 3 else "b", p, "uint8") for k, p in enumerate(imgs)]), META, "path")
    fam = agg_hist.histograms(f)["families"][0]
    assert fam["dtype"] == "uint8" and fam["edges"][0] == 0 and fam["edges"][-1] == 256
    assert fam["counts"][0] == np.bincount(np.concatenate(imgs[:3]), minlength=256).tolist()
    assert fam["counts"][1] == np.bincount(np.concatenate(imgs[3:]), minlength=256).tolist()
    assert fam["rebinned"] == [0, 0] and fam["images"] == [3, 2]


def test_narrow_integer_ranges_rebin_exactly_onto_one_axis() -> None:
    rng = np.random.default_rng(1)
    imgs = [rng.integers(lo, lo + 200, 300).astype(np.uint16) for lo in (10, 40, 95)]
    f = build_frame(table([image_row(f"i{k}", "a", p, "uint16") for k, p in enumerate(imgs)]), META, "path")
    fam = agg_hist.histograms(f)["families"][0]
    allpix = np.concatenate(imgs)
    edges = np.array(fam["edges"])
    assert edges[1] - edges[0] == 2  # range 10..294 needs two levels per bin
    assert fam["counts"][0] == np.histogram(allpix, bins=edges)[0].tolist()  # exact: every source bin nests
    assert fam["rebinned"] == [0]


def test_wide_bins_spread_evenly_keep_totals_and_are_reported() -> None:
    # Every level equally often: spreading a bin evenly over its levels is then exact.
    imgs = [np.repeat(np.arange(0, 3072), 2).astype(np.uint16), np.arange(500, 60404).astype(np.uint16)]
    f = build_frame(table([image_row(f"i{k}", "a", p, "uint16") for k, p in enumerate(imgs)]), META, "path")
    fam = agg_hist.histograms(f)["families"][0]
    counts = np.array(fam["counts"][0])
    truth = np.histogram(np.concatenate(imgs), bins=np.array(fam["edges"]))[0]
    assert counts.sum() == pytest.approx(sum(len(i) for i in imgs))
    assert counts == pytest.approx(truth, abs=1e-6)
    assert fam["rebinned"] == [2]  # 12- and 234-level source bins straddle the 236-level target bins


def test_float_images_rebinned_with_nan_counted_apart() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 5000).astype(np.float32)
    b = rng.normal(3, 2, 5000).astype(np.float32)
    b[:17] = np.nan
    f = build_frame(table([image_row("a", "x", a, "float32"), image_row("b", "y", b, "float32")]), META, "path")
    fam = agg_hist.histograms(f)["families"][0]
    assert fam["nan"] == [0, 17]
    assert sum(fam["counts"][0]) == pytest.approx(5000) and sum(fam["counts"][1]) == pytest.approx(5000 - 17)
    edges = np.array(fam["edges"])
    assert edges[0] == pytest.approx(float(np.nanmin([a.min(), np.nanmin(b)]))) and edges[-1] == pytest.approx(float(np.nanmax([a.max(), np.nanmax(b)])))
    centres = (edges[:-1] + edges[1:]) / 2
    assert np.average(centres, weights=fam["counts"][1]) == pytest.approx(float(np.nanmean(b)), abs=edges[1] - edges[0])


def test_rebin_preserves_every_row_total() -> None:
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 50, (6, 256)).astype(float)
    lo = rng.uniform(0, 100, 6)
    hi = lo + rng.uniform(1, 500, 6)
    out = agg_hist.rebin(counts, lo, hi, np.linspace(-10, 700, 257))
    assert out.sum(axis=1) == pytest.approx(counts.sum(axis=1))
    assert (out >= -1e-9).all()


def metric_rows() -> list[dict[str, object]]:
    rng = np.random.default_rng(5)
    rows: list[dict[str, object]] = []
    for k in range(40):
        cond = "a" if k < 25 else "b"
        rows.append({"imported_path": f"f{k}", "path": cond, "obs_level": 0, "mean_intensity": float(rng.normal(10 if cond == "a" else 14, 2)), "flat": 1.0})
        for c in range(2):
            rows.append({"imported_path": f"f{k}", "path": cond, "obs_level": 1, "dim_c": c, "mean_intensity": float(rng.normal(5 + 10 * c, 1)), "flat": 1.0})
    return rows


def test_box_statistics_match_numpy() -> None:
    v = np.random.default_rng(6).lognormal(0, 1, 301)
    b = agg_dist.box(v)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    assert (b["q1"], b["median"], b["q3"]) == pytest.approx((q1, med, q3))
    iqr = q3 - q1
    assert b["upperfence"] == pytest.approx(v[v <= q3 + 1.5 * iqr].max())
    assert b["lowerfence"] == pytest.approx(v[v >= q1 - 1.5 * iqr].min())
    assert b["sd"] == pytest.approx(v.std()) and b["mean"] == pytest.approx(v.mean())


def test_distributions_per_group_and_channel_facet() -> None:
    rows = metric_rows()
    f = build_frame(table(rows), META, "path")
    d = agg_dist.distributions(f)
    assert [c["metric"] for c in d["constant"]] == ["flat"]
    m = {x["metric"]: x for x in d["metrics"]}["mean_intensity"]
    assert [x["facet"] for x in m["facets"]] == ["all", "C0", "C1"]
    allf, c1 = m["facets"][0], m["facets"][2]
    a_vals = [r["mean_intensity"] for r in rows if r["obs_level"] == 0 and r["path"] == "a"]
    assert allf["groups"][0]["n"] == 25 and allf["groups"][0]["median"] == pytest.approx(np.median(a_vals))
    assert sorted(allf["groups"][0]["points"]) == pytest.approx(sorted(a_vals), rel=1e-5)  # every point, 6 digits
    assert [f.image_rows[i] for i in allf["groups"][0]["images"]] == [k for k, r in enumerate(rows) if r["obs_level"] == 0 and r["path"] == "a"]
    c1_vals = [r["mean_intensity"] for r in rows if r.get("dim_c") == 1 and r["path"] == "b"]
    assert c1["groups"][1]["median"] == pytest.approx(np.median(c1_vals))
    a, b, p_adj, delta = allf["tests"][0]
    b_vals = [r["mean_intensity"] for r in rows if r["obs_level"] == 0 and r["path"] == "b"]
    ref = sps.mannwhitneyu(a_vals, b_vals, method="asymptotic")
    assert (a, b) == (0, 1) and p_adj == pytest.approx(ref.pvalue, rel=1e-3)  # one pair: Bonferroni × 1
    assert delta == pytest.approx(np.mean([np.sign(x - y) for x in a_vals for y in b_vals]), abs=1e-4)
    assert p_adj < 0.05 and delta < -0.474  # significant, large effect


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mann_whitney_matches_scipy_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 12, 30).astype(float)
    b = rng.integers(2, 15, 23).astype(float)
    c = stats.mann_whitney(a, b)
    ref = sps.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
    assert c.u == pytest.approx(ref.statistic) and c.p == pytest.approx(ref.pvalue, rel=1e-9)
    brute = np.mean([np.sign(x - y) for x in a for y in b])
    assert c.delta == pytest.approx(brute)
    assert stats.bonferroni(0.02, 3) == pytest.approx(0.06) and stats.bonferroni(0.5, 3) == 1.0


def test_trends_mean_sd_and_share_per_slice_index() -> None:
    rng = np.random.default_rng(7)
    rows: list[dict[str, object]] = []
    truth: dict[tuple[str, int], list[float]] = {}
    for k in range(6):
        cond, depth = ("a", 4) if k < 4 else ("b", 2 + k - 4)
        rows.append({"imported_path": f"s{k}", "path": cond, "obs_level": 0, "mean_intensity": 0.0})
        for z in range(depth):
            v = float(rng.normal(100 - 10 * z, 3))
            truth.setdefault((cond, z), []).append(v)
            rows.append({"imported_path": f"s{k}", "path": cond, "obs_level": 1, "dim_z": z, "mean_intensity": v})
    t = agg_trends.trends(build_frame(table(rows), META, "path"))["axes"][0]
    assert t["axis"] == "Z" and t["index"] == [0, 1, 2, 3]
    s = t["metrics"]["mean_intensity"]
    for (cond, z), vals in truth.items():
        g = 0 if cond == "a" else 1
        assert s["mean"][g][z] == pytest.approx(np.mean(vals)) and s["sd"][g][z] == pytest.approx(np.std(vals))
    assert t["share"][1] == [1.0, 1.0, 0.5, 0.0]  # one of the two b stacks has a third slice
    assert s["mean"][1][3] is None
