"""Generate the demo's traffic: a credit-default classifier and a house-price regressor.

Everything is vectorised and seeded, so two runs on the same day produce the same data. Models are
real scikit-learn models trained on generated data; their logged predictions come from them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftscope.demo.scenario import (
    CANARY_DAYS,
    CANARY_SHARE,
    CREDIT_PER_HOUR,
    HOUSE_PER_HOUR,
    N_DAYS,
    OUTAGE_HOURS,
    event,
)
from driftscope.demo.serving import add_serving

REGIONS = np.array(["north", "south", "east", "west"])
REGION_P = np.array([0.3, 0.3, 0.2, 0.2])
CITIES = np.array(["A", "B", "C"])
CITY_P = np.array([0.5, 0.3, 0.2])
CITY_P_AFTER = np.array([0.2, 0.25, 0.55])
CREDIT_FEATURES = ["income", "age", "debt_ratio", "region", "has_card"]
HOUSE_FEATURES = ["sqft", "rooms", "city"]


@dataclass(frozen=True)
class DemoData:
    """Generated frames in the users' own column names (as their serving stack would log them)."""

    credit_reference_v1: pd.DataFrame
    credit_reference_v2: pd.DataFrame
    house_reference: pd.DataFrame
    credit_log: pd.DataFrame
    house_log: pd.DataFrame


def _hourly_timestamps(rng: np.random.Generator, start: datetime, per_hour: int, days: int) -> pd.Series:
    """Timestamps with a daily rhythm (busier by day), sorted; about ``per_hour`` rows per hour on average."""
    hours = pd.date_range(start, periods=days * 24, freq="h", tz="UTC")
    rhythm = 1 + 0.5 * np.sin((hours.hour.to_numpy() - 6) / 24 * 2 * np.pi)
    counts = rng.poisson(per_hour * rhythm)
    base = np.repeat(hours.tz_convert(None).to_numpy(), counts)
    offsets = pd.to_timedelta(rng.uniform(0, 3600, len(base)), unit="s")
    return pd.Series(pd.DatetimeIndex(np.sort(base + offsets.to_numpy())).tz_localize("UTC"))


def _credit_inputs(rng: np.random.Generator, n: int, shift: np.ndarray | float = 0.0) -> pd.DataFrame:
    """Credit applicants; ``shift`` (in standard deviations, per row) moves income and debt_ratio up."""
    income = rng.lognormal(mean=10.8, sigma=0.35, size=n) * (1 + 0.12 * np.asarray(shift))
    debt_ratio = np.clip(rng.beta(2, 5, size=n) + 0.05 * np.asarray(shift), 0, 1)
    return pd.DataFrame({
        "income": income.round(2),
        "age": rng.integers(21, 76, size=n).astype(float),
        "debt_ratio": debt_ratio.round(4),
        "region": rng.choice(REGIONS, size=n, p=REGION_P),
        "has_card": rng.binomial(1, 0.6, size=n),
    })


def _default_probability(x: pd.DataFrame, concept_changed: np.ndarray) -> np.ndarray:
    """P(default | x); after the concept drift young borrowers default more and debt matters less."""
    before = -1.2 + 4.0 * (x["debt_ratio"] - 0.28) - 1.2 * (np.log(x["income"]) - 10.8) - 0.4 * x["has_card"]
    before = before + np.where(x["region"] == "east", 0.4, 0.0)
    after = -0.8 + 0.5 * (x["debt_ratio"] - 0.28) + 2.0 * (x["age"] < 35) - 0.6 * (x["age"] > 55)
    logit = np.where(concept_changed, after, before)
    return 1 / (1 + np.exp(-logit))


def _credit_model(rng: np.random.Generator, n: int, c: float) -> Pipeline:
    x = _credit_inputs(rng, n)
    y = rng.binomial(1, _default_probability(x, np.zeros(n, dtype=bool)))
    prep = ColumnTransformer([
        ("num", StandardScaler(), ["income", "age", "debt_ratio", "has_card"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
    ])
    return make_pipeline(prep, LogisticRegression(C=c, max_iter=500)).fit(x, y)


def _credit_rows(model: Pipeline, x: pd.DataFrame, y: np.ndarray, version: str) -> pd.DataFrame:
    score = model.predict_proba(x[CREDIT_FEATURES])[:, 1]
    out = x.copy()
    out["score"] = score.round(6)
    out["predicted_label"] = (score >= 0.5).astype(int)
    out["defaulted"] = y
    out["model_version"] = version
    return out


def generate_credit(rng: np.random.Generator, start: datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reference sets of versions 1.0 and 2.0 and the 60-day prediction log (with true outcomes, latency,
    status and conversions: :mod:`driftscope.demo.serving`)."""
    v1, v2 = _credit_model(rng, 6000, c=1.0), _credit_model(rng, 8000, c=0.3)
    ref_x = _credit_inputs(rng, 3000)
    ref_y = rng.binomial(1, _default_probability(ref_x, np.zeros(3000, dtype=bool)))
    reference_v1 = _credit_rows(v1, ref_x, ref_y, "1.0").drop(columns="model_version")
    reference_v2 = _credit_rows(v2, ref_x, ref_y, "2.0").drop(columns="model_version")
    ts = _hourly_timestamps(rng, start, CREDIT_PER_HOUR, N_DAYS)
    day = ((ts - pd.Timestamp(start)).dt.total_seconds() // 86400).to_numpy().astype(int)
    outage = event("collector_outage")
    lost = (day == outage.start_day) & np.isin(ts.dt.hour.to_numpy(), list(OUTAGE_HOURS))
    ts, day = ts[~lost].reset_index(drop=True), day[~lost]
    shift_start = event("covariate_shift").start_day
    shift = np.clip(day - shift_start + 1, 0, None) * 0.6
    x = _credit_inputs(rng, len(ts), shift=np.minimum(shift, 3.0))
    concept = day >= event("concept_drift").start_day
    y = rng.binomial(1, _default_probability(x, concept))
    canary = (day >= N_DAYS - CANARY_DAYS) & (rng.uniform(size=len(ts)) < CANARY_SHARE)
    log = pd.concat([
        _credit_rows(v1, x[~canary], y[~canary], "1.0").assign(ts=ts[~canary].to_numpy()),
        _credit_rows(v2, x[canary], y[canary], "2.0").assign(ts=ts[canary].to_numpy()),
    ]).sort_values("ts", kind="stable").reset_index(drop=True)
    log.insert(0, "request_id", [f"cr-{i:07d}" for i in range(len(log))])
    return reference_v1, reference_v2, add_serving(log, start)


def _house_inputs(rng: np.random.Generator, n: int, city_p: np.ndarray = CITY_P) -> pd.DataFrame:
    return pd.DataFrame({
        "sqft": rng.normal(1500, 400, size=n).clip(300).round(0),
        "rooms": rng.integers(1, 7, size=n).astype(float),
        "city": rng.choice(CITIES, size=n, p=city_p),
    })


def _house_price(rng: np.random.Generator, x: pd.DataFrame) -> np.ndarray:
    city = x["city"].map({"A": 60_000, "B": 20_000, "C": -15_000}).to_numpy()
    return (120 * x["sqft"] + 15_000 * x["rooms"] + city + rng.normal(0, 25_000, len(x))).round(0).to_numpy()


def generate_house(rng: np.random.Generator, start: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference set and the 60-day log of the house-price regressor (with true prices)."""
    train = _house_inputs(rng, 5000)
    prep = ColumnTransformer([("num", "passthrough", ["sqft", "rooms"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
    model = make_pipeline(prep, LinearRegression()).fit(train, _house_price(rng, train))
    ref_x = _house_inputs(rng, 2500)
    reference = ref_x.assign(price_pred=model.predict(ref_x).round(0), price=_house_price(rng, ref_x))
    ts = _hourly_timestamps(rng, start, HOUSE_PER_HOUR, N_DAYS)
    day = ((ts - pd.Timestamp(start)).dt.total_seconds() // 86400).to_numpy().astype(int)
    mix_day = event("category_mix").start_day
    x = _house_inputs(rng, len(ts))
    flipped = day >= mix_day
    x.loc[flipped, "city"] = rng.choice(CITIES, size=int(flipped.sum()), p=CITY_P_AFTER)
    price = _house_price(rng, x)
    predicted = model.predict(x).round(0)
    incident = event("missing_values")
    lost = (day >= incident.start_day) & (day < incident.end_day) & (rng.uniform(size=len(ts)) < 0.3)
    x.loc[lost, "sqft"] = np.nan
    log = x.assign(price_pred=predicted, price=price, ts=ts.to_numpy())
    log.insert(0, "id", [f"h-{i:06d}" for i in range(len(log))])
    return reference, log


def generate(start: datetime, seed: int = 7) -> DemoData:
    """All the demo's frames for traffic starting at ``start`` (00:00 UTC of day 0)."""
    rng = np.random.default_rng(seed)
    credit_v1, credit_v2, credit_log = generate_credit(rng, start)
    house_reference, house_log = generate_house(rng, start)
    return DemoData(credit_v1, credit_v2, house_reference, credit_log, house_log)


def label_arrivals(rng: np.random.Generator, ts: pd.Series, share: float, delay: timedelta,
                   now: datetime) -> np.ndarray:
    """Which rows get a label, and when it arrives: ``delay`` plus up to 12 h later, and only if by ``now``."""
    arrives = ts + delay + pd.to_timedelta(rng.uniform(0, 12 * 3600, len(ts)), unit="s")
    labelled = (rng.uniform(size=len(ts)) < share) & (arrives <= pd.Timestamp(now)).to_numpy()
    return np.where(labelled, arrives.to_numpy(), np.datetime64("NaT"))
