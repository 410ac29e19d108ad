"""Fixtures of the layer tests."""

from __future__ import annotations

from tests.dashboard.fixtures import demo_with_cubes

__all__ = ["demo_with_cubes"]
