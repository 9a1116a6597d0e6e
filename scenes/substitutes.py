"""Substitutes: which catalogue rows are the same base product, read off their names.

A shopper chooses among the rows of one substitute group for one list line
(:mod:`agents.behaviour`). The base product is a product line of ``scenes/data/products.csv``
found in the item's name after its brand, with claim, size and pack words and numbers
removed; an item whose name names none joins a look-alike neighbour
(:func:`scenes.catalog_gen.lookalike_groups`). Catalogue text in, numbers out: no randomness.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, fields
from importlib import resources

import numpy as np

from scenes.catalog import Catalogue
from scenes.catalog_gen import lookalike_groups

# words that say size or pack, not product (besides catalog_gen's unit words and digits)
_SIZE_WORDS = frozenset(
    "oz lb lbs gal qt pt ml l ct pk pack bag bunch can cans carton pc sq ft roll rolls "
    "mini small medium large jumbo family size value multipack".split())
# words that say a diet or claim, not product: Organic / Gluten-Free / brand are ignored
_CLAIM_WORDS = frozenset({"organic", "gluten-free", "gluten", "free"})
_DIGIT = re.compile(r"\d")


def _stem(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


@functools.cache
def _word(w: str) -> str:
    """A lower-case word stemmed, or "" for a claim, size or pack word or one with a digit."""
    if w in _CLAIM_WORDS or w in _SIZE_WORDS or _DIGIT.search(w):
        return ""
    return _stem(w)


def _words(text: str) -> tuple[str, ...]:
    """Lower-case stemmed words of a label, without claim, size and pack words or numbers."""
    return tuple(x for x in map(_word, text.lower().split()) if x)


def _tokens(name: str, brand: str) -> tuple[str, ...]:
    """:func:`_words` of an item name after its leading brand."""
    b = brand.lower().split()
    words = name.split()
    if b and [w.lower() for w in words[:len(b)]] == b:
        words = words[len(b):]
    return _words(" ".join(words))


@dataclass(frozen=True)
class _Lines:
    """One category's product lines (rows of ``scenes/data/products.csv``): the rows each
    product phrase and each variety names, which rows have a generic name (none, or one that
    several rows share, like "Frozen" peas / fries / fish: their variety is the product), the
    one phrase ending in each head word, and the longest phrase of each kind."""

    phrase_rows: dict[tuple[str, ...], tuple[int, ...]]
    variety_rows: dict[tuple[str, ...], tuple[int, ...]]
    generic: frozenset[int]
    head_phrase: dict[str, tuple[str, ...]]
    longest_phrase: int
    longest_variety: int


@functools.cache
def _product_lines() -> dict[str, _Lines]:
    text = resources.files("scenes").joinpath("data/products.csv").read_text()
    rows: dict[str, list[tuple[tuple[str, ...], list[tuple[str, ...]]]]] = {}
    for r in csv.DictReader(text.splitlines()):
        varieties = [v for v in (_words(x) for x in r["varieties"].split("|")) if v]
        rows.setdefault(r["category"], []).append((_words(r["product"]), varieties))
    out = {}
    for cat, lst in rows.items():
        phrase_rows: dict[tuple[str, ...], list[int]] = {}
        variety_rows: dict[tuple[str, ...], list[int]] = {}
        for i, (ph, vs) in enumerate(lst):
            if ph:
                phrase_rows.setdefault(ph, []).append(i)
            for v in vs:
                variety_rows.setdefault(v, []).append(i)
        generic = {i for i, (ph, _) in enumerate(lst) if not ph or len(phrase_rows[ph]) > 1}
        heads: dict[str, list[tuple[str, ...]]] = {}
        for ph in phrase_rows:
            heads.setdefault(ph[-1], []).append(ph)
        out[cat] = _Lines(
            {k: tuple(dict.fromkeys(v)) for k, v in phrase_rows.items()},
            {k: tuple(dict.fromkeys(v)) for k, v in variety_rows.items()},
            frozenset(generic),
            {h: phs[0] for h, phs in heads.items() if len(phs) == 1},
            max((len(p) for p in phrase_rows), default=0),
            max((len(v) for v in variety_rows), default=0))
    return out


def _find(tokens: tuple[str, ...], table: dict[tuple[str, ...], tuple[int, ...]],
          longest: int, among: tuple[int, ...] | None = None
          ) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    """The longest phrase of ``table`` in ``tokens`` (the rightmost of equal length: the head
    of an English noun phrase comes last) with its rows; only rows in ``among`` when given."""
    for n in range(min(longest, len(tokens)), 0, -1):
        for i in range(len(tokens) - n, -1, -1):
            rows = table.get(tokens[i:i + n])
            if rows is not None and among is not None:
                rows = tuple(r for r in rows if r in among) or None
            if rows is not None:
                return tokens[i:i + n], rows
    return None


def _row_key(lines: _Lines, row: int, variety: tuple[str, ...] | None) -> str:
    if row in lines.generic and variety:
        return f"#{row}:{' '.join(variety)}"
    return f"#{row}"


def _product_key(category: str, tokens: tuple[str, ...]) -> tuple[str, bool]:
    """(key, named) of an item's base product, from its name's words (brand, claims, sizes
    and numbers removed).

    1. A product phrase of the category in the name together with one of its varieties
       outside it, the pair covering the most words (then the longer phrase, then the
       rightmost): "Mayonnaise Olive Oil" is mayonnaise, "Tuna Chunk Light in Oil" tuna; a
       phrase alone when no variety fits ("Baguette"). 2. Else a variety that names one
       product line ("Spaghetti" -> the unnamed pasta line). 3. Else the one phrase whose
       last word is the name's last word ("Whole Wheat Bread" -> sandwich bread). 4. Else
       that last word, not named (a look-alike neighbour may absorb it). A line with a
       generic name (none, or one several lines share, "Frozen" peas / fries / fish) is keyed
       by its variety too: frozen peas and frozen corn are different products.
    """
    lines = _product_lines().get(category)
    if lines is None:
        return (tokens[-1], False) if tokens else ("", False)
    best = None
    n_tok = len(tokens)
    for n in range(min(lines.longest_phrase, n_tok), 0, -1):
        for i in range(n_tok - n, -1, -1):
            rows = lines.phrase_rows.get(tokens[i:i + n])
            if rows is None:
                continue
            vl = _find(tokens[:i], lines.variety_rows, lines.longest_variety, rows)
            vr = _find(tokens[i + n:], lines.variety_rows, lines.longest_variety, rows)
            v = max((x for x in (vl, vr) if x is not None), key=lambda x: len(x[0]),
                    default=None)
            score = (n + (len(v[0]) if v else 0), n, i)
            if best is None or score > best[0]:
                best = (score, tokens[i:i + n], rows, v)
    if best is not None:
        _, phrase, rows, v = best
        if v is not None and len(v[1]) == 1:
            return _row_key(lines, v[1][0], v[0]), True
        if len(rows) == 1:
            return _row_key(lines, rows[0], None), True
        return " ".join(phrase), True
    v = _find(tokens, lines.variety_rows, lines.longest_variety)
    if v is not None and len(v[1]) == 1:
        return _row_key(lines, v[1][0], v[0]), True
    if not tokens:
        return "", False
    ph = lines.head_phrase.get(tokens[-1])
    if ph is not None:
        rows = lines.phrase_rows[ph]
        return (_row_key(lines, rows[0], None) if len(rows) == 1 else " ".join(ph)), True
    return tokens[-1], False


def substitute_groups(catalogue: Catalogue) -> np.ndarray:
    """(s,) int64 substitute group per catalogue row, numbered in order of first appearance.

    Rows in one group are what a shopper chooses among for one list line: the same category
    and the same base product, ignoring brand, Organic / Gluten-Free and size or pack words
    ("Baguette" / "Gluten-Free Baguette", "Whole Milk 1 gal" / "Skim Milk 1 gal" / "Organic
    Whole Milk 1/2 gal"; "Oat Milk" is its own product). The base product is a product line
    of ``scenes/data/products.csv`` read off the name (see :func:`_product_key`: product
    phrase plus variety, plurals folded); a row whose name names none joins a look-alike
    neighbour's group (:func:`scenes.catalog_gen.lookalike_groups`: "Granola Bar Oat 6ct" /
    "Gluten-Free Granola Bar 6ct") unless that would merge two named products. About 0.2 s
    for 30,000 rows.
    """
    s = len(catalogue)
    if s == 0:
        return np.zeros(0, dtype=np.int64)
    key_id: dict[tuple[str, str], int] = {}
    matched: list[bool] = []
    kid = np.empty(s, dtype=np.int64)
    memo: dict[tuple[str, tuple[str, ...]], tuple[str, bool]] = {}
    for i, (name, brand, cat) in enumerate(zip(catalogue.name.tolist(),
                                               catalogue.brand.tolist(),
                                               catalogue.category.tolist(), strict=True)):
        toks = _tokens(name, brand)
        m = memo.get((cat, toks))
        if m is None:
            m = memo[(cat, toks)] = _product_key(cat, toks)
        if not m[0]:
            m = (name.lower(), False)
        k = (cat, m[0])
        j = key_id.get(k)
        if j is None:
            j = key_id[k] = len(matched)
            matched.append(m[1])
        kid[i] = j

    # look-alike neighbours (scenes.catalog_gen.lookalike_groups) of rows with no named
    # product: join that row's key to its neighbour's. Only those pairs are checked, each
    # pair as two adjacent rows of a small catalogue.
    unnamed = ~np.array(matched, dtype=bool)[kid]
    cand = np.flatnonzero((unnamed[:-1] | unnamed[1:]) & (kid[:-1] != kid[1:]))
    links = cand[:0]
    if cand.size:
        rows = np.stack([cand, cand + 1], axis=1).ravel()
        sub = Catalogue(**{f.name: getattr(catalogue, f.name)[rows] for f in fields(Catalogue)})
        la = lookalike_groups(sub)
        links = cand[la[0::2] == la[1::2]]
    if links.size:
        parent = list(range(len(matched)))
        named = [j if matched[j] else -1 for j in range(len(matched))]

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for i in links.tolist():
            a, b = int(kid[i]), int(kid[i + 1])
            if matched[a] and matched[b]:
                continue
            ra, rb = find(a), find(b)
            if ra == rb or (named[ra] >= 0 and named[rb] >= 0):
                continue
            parent[rb] = ra
            named[ra] = max(named[ra], named[rb])
        kid = np.array([find(j) for j in range(len(matched))], dtype=np.int64)[kid]
    _, first, inv = np.unique(kid, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inv].astype(np.int64)
