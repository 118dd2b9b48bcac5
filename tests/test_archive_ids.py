"""The archive's id filters: never a false negative; false positives at the rate the sizing promises."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.storage.archive_ids import BITS_PER_ID, N_HASHES, SCHEME, build_filter, may_hold


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=300, unique=True))
def test_a_filter_holds_every_id_it_was_built_from(ids: list[str]) -> None:
    table = build_filter(pa.array(ids, pa.string()).dictionary_encode())
    assert may_hold(table, np.asarray(ids, dtype=object)).all()


@pytest.mark.parametrize(("bits_per_id", "n_hashes", "n_probes"),
                         [(10, 7, 200_000), (BITS_PER_ID, N_HASHES, 2_000_000)])
def test_false_positives_match_the_bloom_formula(bits_per_id: int, n_hashes: int, n_probes: int) -> None:
    rng = np.random.default_rng(3)
    built = [f"{v:032x}" for v in rng.integers(0, 2**63, 50_000)]
    others = np.asarray([f"x{v:031x}" for v in rng.integers(0, 2**63, n_probes)], dtype=object)
    positives = int(may_hold(build_filter(pa.array(built), bits_per_id=bits_per_id, n_hashes=n_hashes), others).sum())
    expected = n_probes * (1 - np.exp(-n_hashes / bits_per_id)) ** n_hashes  # 1640 and 20
    assert abs(positives - expected) <= 4 * np.sqrt(expected) + 1, (positives, expected)  # Poisson: 4 sd


def test_a_filter_of_another_scheme_cannot_tell() -> None:
    table = build_filter(pa.array(["a"])).set_column(0, "scheme", pa.array([f"not-{SCHEME}"]))
    assert may_hold(table, np.asarray(["zzz", "a"], dtype=object)).all()
