"""The data contracts: every vocabulary has both languages, every schema is coherent."""

from __future__ import annotations

import pytest

from geodata import schema


def test_every_data_set_of_the_domain_has_a_schema() -> None:
    assert set(schema.DATASETS) == {
        "area",
        "precincts",
        "grids",
        "communities",
        "incidents",
        "patrol_fixes",
        "response_units",
        "population",
    }


@pytest.mark.parametrize("name", sorted(schema.VOCABULARIES))
def test_vocabularies_have_chinese_and_english_labels(name: str) -> None:
    vocab = schema.VOCABULARIES[name]
    assert vocab
    for code, label in vocab.items():
        assert code.isascii() and code == code.strip()
        assert label.zh and not label.zh.isascii(), f"{name}.{code} needs a Chinese label"
        assert label.en and label.en.isascii()
    assert len({label.zh for label in vocab.values()}) == len(vocab), "zh labels must be unique"


@pytest.mark.parametrize("kind", sorted(schema.DATASETS))
def test_schema_is_coherent(kind: str) -> None:
    ds = schema.dataset(kind)
    names = [c.name for c in ds.columns]
    assert len(names) == len(set(names))
    if ds.key is not None:
        assert ds.key in ds.required
    if ds.geometry == "polygon":
        assert "geometry" in ds.required
    if ds.geometry == "point":
        assert {"lng", "lat"} <= set(ds.required)
    for col in ds.columns:
        if col.allowed is not None:
            assert col.allowed in schema.VOCABULARIES
        assert col.label.zh in col.aliases


def test_the_domain_vocabulary_is_present() -> None:
    assert schema.UNIT_KINDS["red_armband"].zh == "红袖标"
    assert schema.INCIDENT_CATEGORIES["telecom_fraud"].zh == "电信网络诈骗"
    assert set(schema.COMMUNITY_STATUSES) == {"certified", "in_progress", "not_started"}
    assert schema.INCIDENTS.column("time").label.text("en") == "Time"


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown data set 'crimes'.*incidents"):
        schema.dataset("crimes")
