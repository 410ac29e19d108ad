"""The synthetic demo data set of Xuanhan County: ``python -m geodata demo``.

Real: the county boundary and the 37 township codes and names (:mod:`geodata.xuanhan`).
Synthetic, deterministic for a seed: township seats, precincts (one per township), grids,
population, communities, incidents (two years), patrol fixes (90 days at county scale),
response units, and a few deliberately under-protected places ("planted gaps") that the
manifest lists. The demo's clock is fixed at :data:`geodata.demo.scale.NOW`
(2026-11-25 23:59:59 China Standard Time) so that a seed always gives the same data.

Modules: ``area`` (seats, precincts, grids, population), ``communities``, ``hotspots``
(hot spots and planted gaps), ``incidents``, ``patrol_units`` and ``patrols``, ``response``,
``names``, ``space`` (plane geometry), ``scale`` (sizes and the clock), ``build`` (the
entry point).
"""

from __future__ import annotations

from geodata.demo.build import NOTE, build_demo
from geodata.demo.scale import NOW, SCALES

__all__ = ["NOTE", "NOW", "SCALES", "build_demo"]
