"""Assemble the report: each section module draws its part from a ReportData.

A section returns None when it does not apply (no history for the curves,
inputs that are not images for the picture sections), so the page holds
only what the run can show.
"""
import os

from . import _mpl, attributions, confusion, curves, features, health, mistakes, page, weights

SECTIONS = (curves, confusion, health, weights, attributions, features, mistakes)


def build_report(data):
    """The report for `data` (a ReportData) as an HTML string. Raises MissingDependency
    (an ImportError naming ``pip install "glassnet[viz]"``) when matplotlib is absent."""
    _mpl.require_matplotlib()
    sections = [s for s in (mod.section(data) for mod in SECTIONS) if s is not None]
    subtitle = f"{_count(data.model):,} parameters, {len(data.y)} test samples"
    if data.subtitle:
        subtitle = f"{data.subtitle} · {subtitle}"
    return page.render(data.title, subtitle, data.facts, sections)


def write_report(data, path):
    """Build the report and write it to `path` (atomically: a half-written page never
    replaces a good one). Returns the path."""
    text = build_report(data)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def _count(model):
    return sum(p.numel() for p in model.parameters())
