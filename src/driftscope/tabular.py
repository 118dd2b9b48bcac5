"""Read a table file (Parquet, CSV, JSON Lines) from a local path or an fsspec URL."""

from pathlib import PurePosixPath

import pandas as pd

from driftscope.errors import SourceError

FORMATS = ("parquet", "csv", "jsonl")


def infer_format(path: str) -> str:
    """``parquet``, ``csv`` or ``jsonl`` from the file name (``.json``/``.ndjson`` count as JSON Lines).

    Examples
    --------
    >>> infer_format("s3://bucket/logs/2026-01-01.ndjson")
    'jsonl'
    """
    suffixes = [s.lower() for s in PurePosixPath(path.split("?")[0]).suffixes]
    suffixes = [s for s in suffixes if s not in (".gz", ".bz2", ".zst", ".xz")]
    ext = suffixes[-1] if suffixes else ""
    mapping = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv",
               ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
    if ext not in mapping:
        raise SourceError(f"{path}: cannot tell the format from the extension; use .parquet, .csv or .jsonl")
    return mapping[ext]


def read_table(path: str, fmt: str | None = None) -> pd.DataFrame:
    """Read a whole file into a DataFrame."""
    fmt = fmt or infer_format(path)
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "csv":
            return pd.read_csv(path)
        return pd.read_json(path, lines=True)
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: file not found") from exc
    except Exception as exc:
        raise SourceError(f"{path}: cannot read as {fmt}: {exc}") from exc
