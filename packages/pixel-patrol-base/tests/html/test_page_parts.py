"""Thumbnails, the packed per-image payload, script-safe JSON and the findings links."""

from __future__ import annotations

import base64
import gzip
import io
import json
import struct

import numpy as np
import pyarrow as pa
from html_tables import META, table
from PIL import Image

from pixel_patrol_base.findings import Finding, RowKey
from pixel_patrol_base.html import images, thumbs
from pixel_patrol_base.html.findings_view import LISTED_ROWS, view
from pixel_patrol_base.html.frame import build_frame
from pixel_patrol_base.html.render import json_for_script


def rgba(seed: int, grey: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    if grey:
        out[..., 1] = out[..., 2] = out[..., 0]
    out[:5, :, 3] = 0
    return out


def test_png_decodes_to_the_same_rgba_pixels() -> None:
    for grey in (True, False):
        px = rgba(1, grey)
        uri = thumbs.data_uri(px.tobytes())
        assert uri is not None and uri.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert img.mode == ("LA" if grey else "RGBA")
        assert np.array_equal(np.asarray(img.convert("RGBA")), px)
    assert thumbs.data_uri(b"short") is None


def thumb_rows(n: int) -> list[dict[str, object]]:
    return [{"imported_path": f"f{k}", "path": "a" if k % 3 else "b", "obs_level": 0, "thumbnail": rgba(k, True).tobytes()} for k in range(n)]


def test_findings_images_come_first_round_robin_then_a_sample_of_every_group() -> None:
    f = build_frame(table(thumb_rows(30)), META, "path")
    chosen = thumbs.choose(f, [[5, 6, 7, 8], [20], [5]], 6)
    assert chosen[:3] == [5, 20, 6]  # one image of every finding in turn, duplicates once
    assert chosen[3:5] == [7, 8] and len(chosen) == 6
    sample = thumbs.choose(f, [], 10)
    groups = f.image_group[sample]
    assert len(set(sample)) == 10 and abs(int((groups == 0).sum()) - int((groups == 1).sum())) <= 1
    assert thumbs.choose(f, [[1]], 0) == []
    enc = thumbs.encode(f, [3, 4])
    assert sorted(enc) == [3, 4]


def decode(payload: str) -> dict[str, object]:
    raw = gzip.decompress(base64.b64decode(payload))
    (hlen,) = struct.unpack("<I", raw[:4])
    head = json.loads(raw[4 : 4 + hlen])
    base = 4 + hlen
    out: dict[str, object] = {}
    n = head["n"]
    for c in head["columns"]:
        dt = np.dtype("<" + c["type"])
        if c["kind"] == "list":
            offs = np.frombuffer(raw, dt, n + 1, base + c["offset"])
            vals = np.frombuffer(raw, dt, int(offs[-1]), base + c["offset"] + 4 * (n + 1))
            out[c["name"]] = [vals[offs[i] : offs[i + 1]].tolist() for i in range(n)]
        else:
            arr = np.frombuffer(raw, dt, n, base + c["offset"])
            out[c["name"]] = [None if k < 0 else c["values"][k] for k in arr] if c["kind"] == "text" else arr.tolist()
    return out


def test_packed_images_decode_to_the_table_values() -> None:
    rows = [
        {"imported_path": "/d/a/x.tif", "file_name": "x.tif", "path": "a", "obs_level": 0, "dtype": "uint16", "mean_intensity": 1.5, "file_size": 2**40 + 3, "X_size": 64},
        {"imported_path": "/d/a/x.tif", "path": "a", "obs_level": 1, "dim_z": 0, "mean_intensity": 9.0},
        {"imported_path": "/d/b/y.png", "file_name": "y.png", "path": "b", "obs_level": 0, "dtype": None, "mean_intensity": None, "file_size": 10, "X_size": None, "error": "bad"},
    ]
    f = build_frame(table(rows), META, "path")
    out = decode(images.pack(f, [[0, 2], []]))
    assert out["folder"] == ["/d/a/", "/d/b/"] and out["file_name"] == ["x.tif", "y.png"]
    assert out["group:path"] == [0, 1] and out["dtype"] == ["uint16", None] and out["error"] == [None, "bad"]
    assert out["file_size"] == [2**40 + 3, 10]  # exact in float64
    assert out["mean_intensity"][0] == 1.5 and np.isnan(out["mean_intensity"][1])
    assert out["X_size"][0] == 64 and np.isnan(out["X_size"][1])
    assert out["findings"] == [[0, 2], []]


def test_findings_link_rows_to_images() -> None:
    rows = [
        {"imported_path": "c.lif", "path": "a", "obs_level": 0, "child_id": "s1"},
        {"imported_path": "c.lif", "path": "a", "obs_level": 0, "child_id": "s2"},
        {"imported_path": "c.lif", "path": "a", "obs_level": 1, "child_id": "s2", "dim_z": 3},
        {"imported_path": "d.tif", "path": "a", "obs_level": 0},
    ]
    f = build_frame(table(rows), META, "path")
    fs = [
        Finding("blank", "warning", "slice", "m", files=("c.lif",), rows=(RowKey("c.lif", "s2", dim_z=3), RowKey("gone.tif"))),
        Finding("mixed-formats", "info", "dataset", "m", files=("d.tif", "c.lif")),
    ]
    v = view(f, fs)
    assert v.targets == [[1, -1], [2, 0]]
    assert v.of_image == [[1], [0], [1]]
    assert v.items[0] == {**fs[0].to_json(), "n_files": 1, "n_rows": 2}
    assert v.priority() == [[1], [2, 0]]


def test_big_findings_list_their_first_rows_and_mark_every_image() -> None:
    rows = [{"imported_path": f"f{k}", "path": "a", "obs_level": 0} for k in range(LISTED_ROWS + 50)]
    f = build_frame(table(rows), META, "path")
    big = Finding("outlier", "warning", "image", "m", files=tuple(f"f{k}" for k in range(LISTED_ROWS + 50)),
                  rows=tuple(RowKey(f"f{k}") for k in range(LISTED_ROWS + 50)), evidence=tuple(range(LISTED_ROWS + 50)))
    v = view(f, [big])
    item = v.items[0]
    assert item["n_rows"] == item["n_files"] == LISTED_ROWS + 50
    assert len(item["rows"]) == len(item["files"]) == len(item["evidence"]) == len(v.targets[0]) == LISTED_ROWS
    assert item["rows"] == big.to_json()["rows"][:LISTED_ROWS]
    assert all(x == [0] for x in v.of_image)  # every image knows the finding, listed or not


def test_json_for_script_cannot_close_the_script_element() -> None:
    text = json_for_script({"name": "</script><script>alert(1)</script>", "x": float("nan"), "amp": "a&b", "arr": pa.array([1]).to_pylist()})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "x": None, "amp": "a&b", "arr": [1]}
