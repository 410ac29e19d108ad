"""Known answers for classification, ramps and legends (layers/classify.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers.classify import classify, legend, ramp


def test_quantiles_of_one_to_ten_put_two_values_in_each_of_five_classes() -> None:
    # Linear-interpolated percentiles of 1..10: 2.8, 4.6, 6.4, 8.2, 10 -> whole-number
    # breaks 2, 4, 6, 8, 10 for counts.
    classes, breaks = classify(np.arange(1, 11), scheme="quantiles", k=5)
    assert breaks.tolist() == [2, 4, 6, 8, 10]
    assert classes.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_equal_interval_splits_the_range_into_equal_widths() -> None:
    values = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    classes, breaks = classify(values, scheme="equal_interval", k=5)
    assert breaks.tolist() == [20, 40, 60, 80, 100]
    assert classes.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_natural_breaks_find_obvious_clusters() -> None:
    values = [1, 2, 3, 50, 51, 52, 100, 101]
    classes, breaks = classify(values, scheme="natural_breaks", k=3)
    assert breaks.tolist() == [3, 52, 101]
    assert classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_natural_breaks_on_a_large_sample_are_deterministic() -> None:
    rng = np.random.default_rng(7)
    values = rng.poisson(4, size=20_000) + 1
    first = classify(values, scheme="natural_breaks", k=5)
    second = classify(values, scheme="natural_breaks", k=5)
    assert first[1].tolist() == second[1].tolist()
    assert first[1][-1] == values.max()


def test_fewer_distinct_values_than_classes_gives_one_class_per_value() -> None:
    classes, breaks = classify([1, 1, 1, 1, 1, 2], scheme="quantiles", k=5)
    assert breaks.tolist() == [1, 2]
    assert classes.tolist() == [0, 0, 0, 0, 0, 1]


def test_fixed_bins_and_values_above_the_last_bin() -> None:
    classes, breaks = classify([1, 5, 6, 12], scheme="fixed", bins=[5, 10])
    assert breaks.tolist() == [5, 12]
    assert classes.tolist() == [0, 0, 1, 1]


def test_empty_values_give_no_classes() -> None:
    classes, breaks = classify([], k=5)
    assert classes.size == 0
    assert breaks.size == 0


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([1.0, float("nan")], {}, "NaN"),
        ([1, 2], {"scheme": "kmeans"}, "unknown scheme"),
        ([1, 2], {"scheme": "fixed"}, "needs bins"),
        ([1, 2], {"scheme": "fixed", "bins": [3, 2]}, "increasing"),
        ([1, 2], {"k": 0}, "at least 1"),
    ],
)
def test_bad_arguments_are_refused(values: list[float], kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(values, **kwargs)


@given(
    st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=300),
    st.sampled_from(["quantiles", "natural_breaks", "equal_interval"]),
    st.integers(min_value=1, max_value=9),
)
def test_every_value_lies_inside_its_class(values: list[int], scheme: str, k: int) -> None:
    classes, breaks = classify(values, scheme=scheme, k=k)  # type: ignore[arg-type]
    y = np.asarray(values, dtype=float)
    assert 1 <= breaks.size <= k
    assert np.all(np.diff(breaks) > 0)
    assert breaks[-1] == y.max()
    assert np.all(y <= breaks[classes])
    below = np.where(classes > 0, breaks[np.maximum(classes - 1, 0)], -np.inf)
    assert np.all(y > below)
    order = np.argsort(y, kind="stable")
    assert np.all(np.diff(classes[order]) >= 0)


def test_heat_ramp_is_colorbrewer_ylorrd() -> None:
    assert ramp("heat", 5) == ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
    assert ramp("heat", 1) == ["#feb24c"]
    assert ramp("heat", 2) == ["#ffeda0", "#f03b20"]


@pytest.mark.parametrize("name", ["heat", "diverging", "qualitative"])
def test_ramps_have_the_asked_number_of_distinct_colours(name: str) -> None:
    for k in range(1, 9):
        colours = ramp(name, k)
        assert len(colours) == k
        assert len(set(colours)) == k
        assert all(c.startswith("#") and len(c) == 7 for c in colours)


def test_unknown_ramp_and_too_many_colours_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown ramp"):
        ramp("rainbow", 5)
    with pytest.raises(ValueError, match="1 to 9"):
        ramp("heat", 12)


def test_legend_of_counts_has_whole_number_ranges() -> None:
    result = legend(
        [2, 4, 10],
        ramp=["#a", "#b", "#c"],
        title="警情数",
        unit="起",
        lower=1,
        integer=True,
    )
    assert result["title"] == "警情数"
    assert result["unit"] == "起"
    assert [e["label"] for e in result["entries"]] == ["1 – 2", "3 – 4", "5 – 10"]
    assert [e["lower"] for e in result["entries"]] == [1, 3, 5]
    assert [e["upper"] for e in result["entries"]] == [2, 4, 10]
    assert [e["colour"] for e in result["entries"]] == ["#a", "#b", "#c"]
    json.dumps(result)  # plain JSON types only


def test_legend_of_a_single_count_class_and_of_unknown_lower_bound() -> None:
    single = legend([3, 7], ramp=["#a", "#b"], title="t", lower=3, integer=True)
    assert [e["label"] for e in single["entries"]] == ["3", "4 – 7"]
    rates = legend([0.25, 1.5], ramp=["#a", "#b"], title="t")
    assert [e["label"] for e in rates["entries"]] == ["≤ 0.25", "0.25 – 1.5"]
    assert rates["entries"][0]["lower"] is None


def test_legend_needs_one_colour_per_class() -> None:
    with pytest.raises(ValueError, match="3 classes need 3 colours"):
        legend([1, 2, 3], ramp=["#a"], title="t")


@pytest.mark.filterwarnings("ignore:Numba not installed")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_natural_breaks_agree_with_mapclassify_fisher_jenks(seed: int) -> None:
    import mapclassify

    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=150)
    expected = mapclassify.FisherJenks(values, k=5).bins
    _, breaks = classify(values, scheme="natural_breaks", k=5)
    assert np.allclose(breaks, expected)
