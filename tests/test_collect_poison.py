"""Property: one poisoned value of each kind, anywhere in a multi-file source, blocks nothing.

A source of several JSON Lines files gets one row with a timestamp out of range, one id holding a
NUL, one line with a byte that is not UTF-8, one value holding an unpaired surrogate and one
conflicting duplicate (an earlier row's id with other content), each at a random position. Every
other row must be stored, every file read to its end, and ``read = stored + duplicates +
conflicts + quarantined`` must hold with exactly four quarantined rows and one conflict. On SQLite
and, with fewer examples (each is a few transactions on a shared server), on PostgreSQL, which
refuses NUL in text where SQLite cuts the value at it.
"""

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from helpers_collect import assert_identity, files_source, log_rows, make_config, marks, quarantined, stored_ids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from driftscope.apply import apply_config
from driftscope.collectors import collect

KINDS = ("out_of_range", "nul", "not_utf8", "surrogate")
EXAMPLES = itertools.count()
APPLIED: set[str] = set()


def poison(line: bytes, kind: str) -> bytes:
    """The JSON line ``line`` with one value poisoned as ``kind``."""
    row = json.loads(line)
    if kind == "out_of_range":
        row["ts"] = "3000-01-01T00:00:00Z"
    elif kind == "nul":
        row["request_id"] += "\x00"
    elif kind == "surrogate":
        row["region"] = "\ud800"
    text = json.dumps(row).encode()
    return text.replace(b'"region": "', b'"region": "\xff') if kind == "not_utf8" else text


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[int], dict[str, int], int]:
    """Rows per file, the global row index of each poison, and the earlier row the conflict copies."""
    sizes = draw(st.lists(st.integers(3, 12), min_size=2, max_size=4))
    total = sum(sizes)
    spots = draw(st.lists(st.integers(0, total - 1), min_size=len(KINDS), max_size=len(KINDS), unique=True))
    clean = [i for i in range(total) if i not in spots]
    original = draw(st.sampled_from(clean))
    return sizes, dict(zip(KINDS, spots, strict=True)), original


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), conflict_file=st.integers(0, 3))
def test_one_poisoned_value_of_each_kind_blocks_nothing(sqlite_engine, tmp_path, layout, conflict_file) -> None:
    check_poisoned_source(sqlite_engine, tmp_path, layout, conflict_file)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), conflict_file=st.integers(0, 3))
def test_one_poisoned_value_of_each_kind_blocks_nothing_on_postgres(engine, tmp_path, layout, conflict_file) -> None:
    check_poisoned_source(engine, tmp_path, layout, conflict_file)


def check_poisoned_source(engine: Engine, tmp_path: Path, layout: tuple[list[int], dict[str, int], int],
                          conflict_file: int) -> None:
    """Collect a multi-file source poisoned per ``layout`` into ``engine``; check every row is accounted for."""
    sizes, spots, original = layout
    k = next(EXAMPLES)
    prefix = f"e{k}-"
    root = tmp_path / f"example{k}"
    frame = log_rows(sum(sizes), prefix=prefix)
    lines = frame.to_json(orient="records", lines=True, date_format="iso", date_unit="us").encode().splitlines()
    for kind, spot in spots.items():
        lines[spot] = poison(lines[spot], kind)
    copy = json.loads(lines[original])
    copy["income"] += 1.0
    starts = [0, *itertools.accumulate(sizes)]
    files = [lines[a:b] for a, b in itertools.pairwise(starts)]
    target = max(conflict_file % len(files), next(i for i in range(len(files)) if original < starts[i + 1]))
    files[target].append(json.dumps(copy).encode())
    for i, body in enumerate(files):
        path = root / "logs" / f"{i:02d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(body) + b"\n")
    url = engine.url.render_as_string(hide_password=False)
    config = make_config(root, url, [files_source(f"poison{k}", "logs/*.jsonl")])
    if url not in APPLIED:
        apply_config(config, engine)
        APPLIED.add(url)

    [summary] = collect(engine, config)

    assert_identity(summary)
    assert summary.status == "succeeded", summary.error
    assert (summary.rows_read, summary.rows_quarantined, summary.rows_conflict) == (sum(sizes) + 1, 4, 1)
    assert summary.rows_stored == sum(sizes) - 4
    expected = sorted(f"{prefix}{i}" for i in range(sum(sizes)) if i not in spots.values())
    assert [i for i in stored_ids(engine) if i.startswith(prefix)] == expected
    taken = marks(engine, f"poison{k}")
    assert {Path(p).name: m.offset for p, m in taken.items()} == {
        f"{i:02d}.jsonl": (root / "logs" / f"{i:02d}.jsonl").stat().st_size for i in range(len(files))}
    reasons = " | ".join(quarantined(engine, f"poison{k}")["reason"])
    for text in ("timestamp out of range", "NUL character", "not valid UTF-8", "conflicting duplicate"):
        assert text in reasons
    assert pd.Series(reasons.split(" | ")).str.contains("unpaired surrogate").sum() == 2
