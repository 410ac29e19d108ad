"""A bureau's own values mapped to the codes of a vocabulary (``--values``), and suggestions.

A bureau's files say 其他, 纠纷 or its own 110 警情分类 codes where the vocabulary of
:mod:`geodata.schema` has ``other`` (其他警情) and ``dispute`` (矛盾纠纷). A value mapping
is a JSON file, one object per coded column of the data set (by its schema name, or any
of its aliases)::

    {"category": {"其他": "other", "纠纷": "dispute", "0101": "theft"},
     "unit_kind": {"巡逻车": "police_car"}}

whose targets are codes or labels of that column's vocabulary. For the values that are
neither in the vocabulary nor mapped, :func:`suggest` proposes the likeliest code (a label
that contains the value or that it contains, else the closest spelling), so the import's
summary can print a mapping to review and pass back with ``--values``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path

from geodata.columns import normalise_header
from geodata.schema import VOCABULARIES, Dataset
from geodata.validate.cells import vocabulary_lookup


class ValueMappingError(ValueError):
    """A value mapping file that cannot be used (the message says why, in zh and en)."""


def load_value_mapping(path: Path | str, schema: Dataset) -> dict[str, dict[str, str]]:
    """Column name -> {normalised file value -> code} from a JSON value mapping file."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueMappingError(
            f"无法读取取值映射文件 {path} / cannot read the value mapping {path}: {exc}"
        ) from exc
    coded = {c.name: c for c in schema.columns if c.allowed is not None}
    names = {normalise_header(a): c.name for c in coded.values() for a in (c.name, *c.aliases)}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueMappingError(
            "取值映射应为 {列: {文件取值: 代码}} / a value mapping is an object of columns, "
            f'each an object of file value -> code, e.g. {{"{next(iter(coded), "category")}": '
            '{"其他": "other"}}'
        )
    out: dict[str, dict[str, str]] = {}
    for header, pairs in raw.items():
        column = names.get(normalise_header(header))
        if column is None:
            raise ValueMappingError(
                f"取值映射中的列 {header!r} 不是 {schema.kind} 的代码列 / {header!r} is no coded "
                f"column of {schema.kind}; its coded columns: {', '.join(coded) or 'none'}"
            )
        lookup = vocabulary_lookup(str(coded[column].allowed))
        for value, target in pairs.items():
            code = lookup.get(normalise_header(str(target)))
            if code is None:
                valid = ", ".join(sorted(set(lookup.values())))
                raise ValueMappingError(
                    f"取值映射把 {value!r} 指向未知的代码 {target!r} / the value mapping maps "
                    f"{value!r} to {target!r}, which is no code of {column}: {valid}"
                )
            out.setdefault(column, {})[normalise_header(str(value))] = code
    return out


def suggest(value: str, vocabulary: str) -> str | None:
    """The likeliest code of ``vocabulary`` for a file's ``value`` (None: no idea)."""
    labels = VOCABULARIES[vocabulary]
    text = normalise_header(value)
    if not text:
        return None
    spellings = {normalise_header(s): code for code, lab in labels.items()
                 for s in (code, lab.zh, lab.en)}  # fmt: skip
    near = [code for s, code in spellings.items() if s and (text in s or s in text)]
    if len(set(near)) == 1:
        return near[0]
    close = difflib.get_close_matches(text, list(spellings), n=1, cutoff=0.6)
    return spellings[close[0]] if close else None


def unknown_code(code: str, schema: Dataset) -> dict[str, str]:
    """Column -> ``code`` for each coded column of ``schema`` whose vocabulary has it
    (``--unknown``); ValueMappingError when none has."""
    out = {
        c.name: code
        for c in schema.columns
        if c.allowed is not None and code in VOCABULARIES[c.allowed]
    }
    if not out:
        coded = {c.name: sorted(VOCABULARIES[c.allowed]) for c in schema.columns if c.allowed}
        listed = "; ".join(f"{k}: {', '.join(v)}" for k, v in coded.items()) or "none"
        raise ValueMappingError(
            f"--unknown {code!r} 不是 {schema.kind} 任何代码列的代码 / --unknown {code!r} is no "
            f"code of a coded column of {schema.kind} ({listed})"
        )
    return out


def suggested_mapping(
    unknown: Mapping[str, Mapping[str, int]], schema: Dataset
) -> dict[str, dict[str, str]]:
    """A value mapping of the unknown values that have a suggestion, to review."""
    out: dict[str, dict[str, str]] = {}
    for column, counts in unknown.items():
        vocabulary = schema.column(column).allowed
        if vocabulary is None:
            continue
        for value in counts:
            code = suggest(value, vocabulary)
            if code is not None:
                out.setdefault(column, {})[value] = code
    return out


__all__ = [
    "ValueMappingError",
    "load_value_mapping",
    "suggest",
    "suggested_mapping",
    "unknown_code",
]
