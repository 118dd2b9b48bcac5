"""A Bloom filter of an archived part's prediction ids: which archived days can hold a given id.

The roll-over (:mod:`driftscope.storage.archive`) writes one beside each predictions part (kind
``id_filter``), so a label that lands after its prediction was archived is looked for only in the
days whose filter may hold its id (:mod:`driftscope.storage.profiles.labelled_archive`), whatever
the ids look like. A filter never misses an id it was built from; ``BITS_PER_ID`` = 24 bits per id
(3 bytes) and ``N_HASHES`` = 16 hashes give a false-positive rate of ``(1 - exp(-k / b)) ** k``
≈ 1.0e-5 per id, so a batch of ``n`` labels reads a day that holds none of them with probability
about ``n * 1e-5`` (1 % for 1,000 labels, 10 % for 10,000). Fewer bits would make large batches
read nearly every day (at 10 bits, 0.8 % per id: 1,000 labels read all of them).

An id's hash is pandas' SipHash-2-4 of its UTF-8 text with pandas' fixed key
(:func:`pandas.util.hash_array`, vectorised); the ``k`` bit positions are ``(h1 + i * h2) mod m``
for ``i < k`` (Kirsch and Mitzenmacher's double hashing; ``h1``, ``h2`` the low and high 32 bits,
``h2`` made odd). The filter records its scheme; one of another scheme cannot tell (it holds
everything).
"""

import numpy as np
import pandas as pd
import pyarrow as pa

BITS_PER_ID = 24
N_HASHES = 16
SCHEME = "siphash24-pandas-double-v1"
KIND = "id_filter"


def build_filter(ids: pa.Array | pa.ChunkedArray, *, bits_per_id: int = BITS_PER_ID, n_hashes: int = N_HASHES
                 ) -> pa.Table:
    """The filter of ``ids`` as a one-row table (``scheme``, ``n_bits``, ``n_hashes``, ``bits``).

    Examples
    --------
    >>> table = build_filter(pa.array(["a", "b", "c"]))
    >>> may_hold(table, np.array(["a", "b", "c"])).tolist()
    [True, True, True]
    """
    values = _strings(ids)
    n_bits = max(64, bits_per_id * len(values))
    bits = np.zeros(n_bits, dtype=bool)
    bits[_positions(values, n_bits, n_hashes).ravel()] = True
    return pa.table({"scheme": [SCHEME], "n_bits": pa.array([n_bits], pa.int64()),
                     "n_hashes": pa.array([n_hashes], pa.int64()), "bits": [np.packbits(bits).tobytes()]})


def may_hold(table: pa.Table, ids: np.ndarray) -> np.ndarray:
    """Per id, whether the filter may hold it (False: certainly not); all True for an unknown scheme."""
    row = table.to_pylist()[0]
    if row["scheme"] != SCHEME:
        return np.ones(len(ids), dtype=bool)
    packed = np.frombuffer(row["bits"], dtype=np.uint8)  # np.packbits: bit i is bit 7 - i % 8 of byte i // 8
    positions = _positions(np.asarray(ids, dtype=object), int(row["n_bits"]), int(row["n_hashes"]))
    return ((packed[positions >> 3] >> (7 - (positions & 7)).astype(np.uint8)) & 1).astype(bool).all(axis=1)


def _positions(ids: np.ndarray, n_bits: int, n_hashes: int) -> np.ndarray:
    """The ``(len(ids), n_hashes)`` bit positions of ``ids``."""
    hashes = pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False).astype(np.uint64)
    low, high = hashes & np.uint64(0xFFFFFFFF), (hashes >> np.uint64(32)) | np.uint64(1)
    steps = np.arange(n_hashes, dtype=np.uint64)
    return ((low[:, None] + steps[None, :] * high[:, None]) % np.uint64(n_bits)).astype(np.int64)


def _strings(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    return np.asarray(ids.cast(pa.string()).to_pylist(), dtype=object)
