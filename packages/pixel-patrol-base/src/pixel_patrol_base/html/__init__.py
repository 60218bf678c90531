"""The HTML report: one self-contained page that shows a report, findings first.

Aggregates are computed here in Python (numpy / pyarrow) and embedded as JSON; the page only
draws them. Rendering needs the ``report`` extra (Jinja2 and the plotly.js bundle of the
``plotly`` package); the aggregation modules need only numpy and pyarrow.
"""

from pixel_patrol_base.html.write import write_html

__all__ = ["write_html"]
