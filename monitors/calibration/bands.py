"""Size bands: window sizes that share one calibrated null distribution.

A band is a quarter octave of the window's non-missing value count ``n``: band ``b`` holds
``2**(b/4) <= n < 2**((b+1)/4)``, so sizes within a band differ by at most 19 %. The null of a
band is drawn at its *lower* edge (the smallest size of the band, rounded up to an integer),
where the spread of every calibrated statistic but the chi-square statistic is largest: the
threshold is then at least the one at the window's own size (conservative, never more false
alarms). The chi-square statistic grows with the window size at a fixed reference size, so its
null is drawn at the band's upper edge instead (:data:`GROWS_WITH_SIZE`).
"""

import math

GROWS_WITH_SIZE = frozenset({"chisquare"})
STEPS_PER_OCTAVE = 4


def size_band(n: int) -> int:
    """The band of a window with ``n`` values (``n >= 1``).

    Examples
    --------
    >>> size_band(1), size_band(1000), size_band(1023), size_band(1024)
    (0, 39, 39, 40)
    """
    if n < 1:
        raise ValueError(f"a size band needs at least one value, got n={n}")
    band = math.floor(STEPS_PER_OCTAVE * math.log2(n))
    while math.ceil(2 ** ((band + 1) / STEPS_PER_OCTAVE)) <= n:  # float rounding at exact powers
        band += 1
    while math.ceil(2 ** (band / STEPS_PER_OCTAVE)) > n:
        band -= 1
    return band


def band_size(band: int, method: str) -> int:
    """The window size the null of ``band`` is drawn at for ``method`` (lower edge; upper for chi-square).

    Examples
    --------
    >>> band_size(39, "ks"), band_size(39, "chisquare"), band_size(40, "ks")
    (862, 1024, 1024)
    """
    edge = band + 1 if method in GROWS_WITH_SIZE else band
    return math.ceil(2 ** (edge / STEPS_PER_OCTAVE))
