"""The HTML the report's sections are written in: escaped text, numbers as percentages (a
counted rate with its count and 95 % interval), US dollars and counts (a dash where there is
none), tables, the line saying what a section lacks, and a figure with its caption.
"""

from __future__ import annotations

import html
import math

from experiments.studies.report.groups import as_float, present
from experiments.studies.report.intervals import Count


def esc(v) -> str:
    """``v`` as HTML-escaped text."""
    return html.escape(str(v))


def fmt_pct(v, nd: int = 1) -> str:
    """A fraction as a percentage with ``nd`` decimals; a dash where there is none."""
    x = as_float(v)
    return "&ndash;" if not math.isfinite(x) else f"{100 * x:.{nd}f}&nbsp;%"


def fmt_rate(v, c: Count | None, nd: int = 1, per: float = 100.0) -> str:
    """A rate with the count behind it and its 95 % Wilson interval
    (:mod:`~experiments.studies.report.intervals`): "75.0 % (6 of 8; 95 % CI 40.9-92.9 %)";
    with ``per`` 1,000, "262 (21 of 80; 95 % CI 178-369)".

    v: the rate shown, a fraction (a mean over runs); c: its counts pooled over the runs,
    None where the rows hold none (said, not invented); nd: decimals. Where ``v`` differs
    from the pooled k / n at the digits shown (seeds with different numbers of receipts),
    both are given."""
    unit = "&nbsp;%" if per == 100 else ""
    x = as_float(v)

    def num(f: float) -> str:
        return f"{per * f:,.{nd}f}"
    if c is None:
        return ("&ndash;" if not math.isfinite(x) else num(x) + unit) + " (no count recorded)"
    if c.n == 0:
        return "&ndash; (0 of 0)"
    lo, hi = c.interval()
    ci_nd = min(nd, 1)                  # an interval's ends need no more than a decimal
    ci = f"95&nbsp;% CI {per * lo:,.{ci_nd}f}&ndash;{per * hi:,.{ci_nd}f}{unit}"
    if not math.isfinite(x) or num(x) == num(c.rate):
        return f"{num(c.rate)}{unit} ({c.k} of {c.n}; {ci})"
    return (f"{num(x)}{unit} mean over runs ({c.k} of {c.n} pooled: {num(c.rate)}{unit}; "
            f"{ci})")


def fmt_target(t: float) -> str:
    """A target percentage with the digits it has: 99.5 %, 99.99 %, 90 %."""
    return f"{100 * t:.4g}&nbsp;%"


def fmt_usd(v) -> str:
    """US dollars, whole, with thousands separators; a dash where there are none."""
    x = as_float(v)
    return "&ndash;" if not math.isfinite(x) else f"${x:,.0f}"


def fmt_num(v, fmt: str = ",.3g") -> str:
    """A number in ``fmt``; a dash where there is none."""
    x = as_float(v)
    return "&ndash;" if not math.isfinite(x) else format(x, fmt)


def fmt_cell(v) -> str:
    """A results cell as it reads in a table: floats to 4 digits; a dash when missing."""
    if not present(v):
        return "&ndash;"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return esc(v)


def table_html(head: list[str], rows: list[list[str]], cls: str = "",
               row_cls: list[str] | None = None) -> str:
    """An HTML table of ``head`` and ``rows`` (cells already HTML), with the table's class
    ``cls`` and each row's class ``row_cls``."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = []
    for i, r in enumerate(rows):
        c = f' class="{row_cls[i]}"' if row_cls and row_cls[i] else ""
        body.append(f"<tr{c}>" + "".join(f"<td>{x}</td>" for x in r) + "</tr>")
    cl = f' class="{cls}"' if cls else ""
    return f"<table{cl}><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def nodata(text: str) -> str:
    """A section's line saying what data it lacks (and the study-file change that would
    supply it: :mod:`~experiments.studies.report.lacking`)."""
    return f'<p class="nodata">{text}</p>'


def figure_html(uri: str, name: str, caption: str, alt: str) -> str:
    """A figure element of the image ``uri`` (named ``name`` in ``data-figure``), its
    ``caption`` (HTML) and ``alt`` text."""
    return (f'<figure><img data-figure="{html.escape(name)}" alt="{html.escape(alt)}" '
            f'src="{uri}"><figcaption>{caption}</figcaption></figure>')
