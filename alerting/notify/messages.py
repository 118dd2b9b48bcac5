"""Render stored events (see ``docs/webhooks.md``) as what channels send: JSON bodies, e-mail parts.

Events are rendered at send time: :func:`outgoing` adds ``sent_at`` and the dashboard link to the
stored document; :func:`subject`, :func:`text_body` and :func:`html_body` make the e-mail; the key
numbers (:func:`key_numbers`, :func:`drift_table`) are shared with the Slack format.
"""

import html
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from driftscope.alerting.rules.figures import compared, number, p_value_text

DASHBOARD_PAGE = "model_version"
EXPERIMENT_PAGE = "compare"
MAX_TABLE_ROWS = 20
MAX_SUBJECT = 200


def dashboard_link(dashboard_url: str, event: dict[str, Any]) -> str | None:
    """Link to the dashboard page of the event's model version and window (query: model, version, alert, start, end).

    With ``alert`` (the alert's id) the dashboard opens the incident: a range from a few windows
    before the alert began to now (or its resolution), its windows highlighted; ``start`` and ``end``
    (the window of this firing) are the fallback when the alert is gone. An experiment's decision
    links to Compare versions (``compare``: the control), whose Experiment view shows the verdict.

    Examples
    --------
    >>> event = {"type": "alert.fired", "alert": {"id": 7, "model": "m", "version": "1.0",
    ...          "window": {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00"}}}
    >>> dashboard_link("http://dash:8501/", event)  # doctest: +NORMALIZE_WHITESPACE
    'http://dash:8501/model_version?model=m&version=1.0&alert=7&start=2026-01-01T00%3A00%3A00Z&end=2026-01-02T00%3A00%3A00Z'
    >>> event["alert"] |= {"kind": "experiment_decided", "evidence": {"control": "0.9"}}
    >>> dashboard_link("http://dash:8501", event).split("&alert")[0]
    'http://dash:8501/compare?model=m&version=1.0&compare=0.9'
    """
    subject = _subject_of(event)
    if not subject.get("model"):
        return None
    params = {"model": subject["model"], "version": subject["version"]}
    page = DASHBOARD_PAGE
    control = (subject.get("evidence") or {}).get("control")
    if subject.get("kind") == "experiment_decided" and control is not None:
        page, params["compare"] = EXPERIMENT_PAGE, str(control)
    if event.get("type", "").startswith("alert.") and subject.get("id") is not None:
        params["alert"] = str(subject["id"])
    window = subject.get("window") or event.get("evidence", {}).get("window") or {}
    for key in ("start", "end"):
        if window.get(key):
            params[key] = _url_time(window[key])
    return f"{dashboard_url.rstrip('/')}/{page}?{urlencode(params)}"


def outgoing(event: dict[str, Any], *, sent_at: datetime, dashboard_url: str) -> dict[str, Any]:
    """The document as sent: the stored event plus ``sent_at`` and ``links.dashboard``."""
    link = dashboard_link(dashboard_url, event)
    return {**event, "sent_at": sent_at.astimezone(UTC).isoformat(), "links": {"dashboard": link}}


def json_body(document: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (UTF-8 JSON, compact); signatures are computed over these bytes."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()


_TAGS = {"alert.resolved": "RESOLVED", "alert.updated": "UPDATED", "alert.confirmed": "CONFIRMED",
         "alert.retracted": "RETRACTED"}


def subject(event: dict[str, Any]) -> str:
    """E-mail subject with severity, model, version and rule.

    Examples
    --------
    >>> subject({"type": "alert.fired", "alert": {"severity": "critical", "model": "m", "version": "1.0",
    ...          "rule": "auc-floor", "title": "roc_auc 0.61 below the floor 0.7"}})
    '[CRITICAL] m 1.0: auc-floor - roc_auc 0.61 below the floor 0.7'
    """
    if event["type"] == "retraining.requested":
        r = event["request"]
        text = f"[RETRAIN] {r['model']} {r['version']}: retraining requested - {r['reason']}"
    else:
        a = event["alert"]
        tag = _TAGS.get(event["type"], str(a["severity"]).upper())
        text = f"[{tag}] {a['model']} {a['version']}: {a['rule']} - {a['title']}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."


def key_numbers(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures a reader needs first, as (label, value) pairs."""
    if event["type"] == "retraining.requested":
        r, alerts = event["request"], event.get("evidence", {}).get("alerts", [])
        rules = ", ".join(f"{a['rule']} ({a['severity']})" for a in alerts) or "none"
        return [
            ("Model version", f"{r['model']} {r['version']}"), ("Trigger", str(r["trigger"])),
            ("Requested by", str(r["requested_by"])), ("Reason", str(r["reason"])), ("Active alerts", rules),
            ("Idempotency key", str(event["idempotency_key"])),
        ]
    a, ev = event["alert"], event["alert"].get("evidence") or {}
    rows = [
        ("Model version", f"{a['model']} {a['version']}"), ("Rule", f"{a['rule']} ({a['kind']})"),
        ("Severity", str(a["severity"])), ("Status", str(a["status"])),
        *_data_time(a),
        ("Window", f"{_time(a['window'].get('start'))} to {_time(a['window'].get('end'))} (UTC, newest breaching)"),
        ("Fired", f"{a['fire_count']} window(s); alert created {_time(a['first_seen'])}, "
                  f"last changed {_time(a['last_seen'])} (UTC, wall clock)"),
    ]
    return rows + _evidence_numbers(ev)


def _data_time(alert: dict[str, Any]) -> list[tuple[str, str]]:
    """The incident's data time (absent in events stored before schema additions)."""
    span = alert.get("data_time") or {}
    if not span.get("start"):
        return []
    rows = [("Data time", f"{_time(span['start'])} to {_time(span.get('end'))} (UTC, breaching windows)")]
    if span.get("resolved"):
        rows.append(("Resolved after", f"the window ending {_time(span['resolved'])} (UTC)"))
    return rows


def _evidence_numbers(ev: dict[str, Any]) -> list[tuple[str, str]]:
    rows = _experiment_numbers(ev) if ev.get("experiment") else []
    if ev.get("n_features") is not None:
        rows.append(("Drifted features", f"{ev.get('n_drifted')} of {ev['n_features']} "
                     f"(share {_share(ev.get('drifted_share'))}; dataset drift at {_share(ev.get('drift_share'))} "
                     "or more)"))
    metric = ev.get("metric")
    if metric:
        rows.append(_metric_numbers(metric))
    if ev.get("silent_hours") is not None:
        rows.append(("No data for", f"{_num(ev['silent_hours'])} h (limit {_num(ev['hours'])} h), last prediction "
                     f"{_time(ev.get('last_prediction_at'))}, last ingest {_time(ev.get('last_ingested_at'))}"))
    if ev.get("detectors"):
        rows.append(("Detectors fired", ", ".join(ev["detectors"])))
    if ev.get("error"):
        rows.append(("Error", str(ev["error"]).strip().splitlines()[0][:300]))
    if ev.get("n_rows") is not None:
        rows.append(("Rows", f"{ev['n_rows']} in the window, {ev.get('n_reference')} reference, "
                     f"{ev.get('n_labels')} labelled"))
    return rows


def _experiment_numbers(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """An experiment's decision: verdict, effect with its confidence sequence, units per arm, guardrails."""
    cs, n, means = ev.get("confidence_sequence") or {}, ev.get("n") or {}, ev.get("means") or {}
    window = ev.get("window") or {}
    return [
        ("Experiment", f"{ev['experiment']}: treatment {ev.get('treatment')} vs control {ev.get('control')}"),
        ("Verdict", f"{ev.get('verdict')} ({ev.get('reason')})"),
        ("Reached in", f"the window {_time(window.get('start'))} to {_time(window.get('end'))} (UTC)"),
        ("Effect", f"{_num(ev.get('effect'))} (treatment - control; {1 - float(cs.get('alpha') or 0):.0%} confidence "
                   f"sequence {_num(cs.get('low'))} to {_num(cs.get('high'))}, valid at every look)"),
        ("Means", f"control {_num(means.get('control'))}, treatment {_num(means.get('treatment'))}"),
        ("Units", f"control {n.get('control')}, treatment {n.get('treatment')}"),
        ("Guardrails breached", ", ".join(ev.get("guardrails_breached") or []) or "none"),
    ]


def _metric_numbers(metric: dict[str, Any]) -> tuple[str, str]:
    """A metric with its direction, interval, reference, floor or test, and label count."""
    higher = metric.get("higher_is_better", True)
    ci = "" if metric.get("ci_low") is None else f" (CI {_num(metric['ci_low'])} to {_num(metric.get('ci_high'))})"
    parts = [f"{_num(metric['value'])}{ci}", f"reference {_num(metric.get('reference_value'))}",
             f"{'higher' if higher else 'lower'} is better"]
    if metric.get("floor") is not None:
        parts.append(f"floor {_num(metric['floor'])}")
    if metric.get("drop") is not None:
        parts.append(f"worse by {_num(abs(metric['drop']))}" if metric["drop"] > 0
                     else f"better by {_num(abs(metric['drop']))}")
    if metric.get("p_value") is not None:
        parts.append(f"one-sided {p_value_text(metric['p_value'], metric.get('threshold'))}")
    state = metric.get("state")
    if state is None:
        parts.append(f"n={metric.get('n')} labelled rows")
    else:
        parts += _estimate_numbers(metric)
    return str(metric["metric"]), ", ".join(parts)


def _estimate_numbers(metric: dict[str, Any]) -> list[str]:
    """An ``estimated_performance`` figure: estimated (band, reliability) or realized (the estimate it settled).

    Examples
    --------
    >>> _estimate_numbers({"state": "estimated", "band": [0.7, 0.8], "n": 900, "unreliable": True,
    ...                    "unreliable_reasons": ["concept drift"]})
    ['estimated without labels (band 0.7 to 0.8)', 'n=900 rows', 'estimate unreliable: concept drift']
    >>> _estimate_numbers({"state": "realized", "estimate": 0.75, "band": [0.7, 0.8], "n": 900,
    ...                    "verdict": "retracted"})
    ['realized from labels (estimated 0.75, band 0.7 to 0.8)', 'n=900 rows', 'retracted']
    """
    low, high = metric.get("band") or [None, None]
    band = f"band {_num(low)} to {_num(high)}"
    if metric["state"] == "estimated":
        parts = [f"estimated without labels ({band})", f"n={metric.get('n')} rows"]
        if metric.get("unreliable"):
            parts.append("estimate unreliable: " + "; ".join(metric.get("unreliable_reasons") or []))
        return parts
    parts = [f"realized from labels (estimated {_num(metric.get('estimate'))}, {band})", f"n={metric.get('n')} rows"]
    return parts + ([str(metric["verdict"])] if metric.get("verdict") else [])


def drift_table(event: dict[str, Any]) -> list[dict[str, str]]:
    """Drifted features, at most :data:`MAX_TABLE_ROWS`: what each test compared (p-value with its
    threshold and the statistic apart, or the distance with its threshold), effect size when stored.

    The model's outputs (prediction, probability) are tested too but are not features: they are
    named "(model output)", so the list agrees with the "n of N features" count beside it."""
    features = (event.get("alert", {}).get("evidence") or {}).get("drifted_features") or []
    return [
        {"feature": str(f["feature"]) + ("" if f.get("role", "feature") == "feature" else " (model output)"),
         "method": str(f["method"]), "statistic": _num(f.get("statistic")),
         "threshold": _num(f.get("threshold")), "p_value": _num(f.get("p_value")),
         "effect_size": _num(f.get("effect_size")), "compared": compared(f)}
        for f in features[:MAX_TABLE_ROWS]
    ]


def text_body(document: dict[str, Any]) -> str:
    """Plain-text e-mail body of an outgoing document."""
    lines = [subject(document), ""]
    width = max(len(label) for label, _ in key_numbers(document))
    lines += [f"{label.ljust(width)}  {value}" for label, value in key_numbers(document)]
    table = drift_table(document)
    if table:
        lines += ["", "Drifted features:"]
        lines += [f"  {r['feature']}: {r['compared']}" for r in table]
    link = document.get("links", {}).get("dashboard")
    if link:
        lines += ["", f"Open in the dashboard: {link}"]
    lines += ["", f"Event {document['id']} ({document['type']}, schema {document['schema_version']})."]
    return "\n".join(lines) + "\n"


def html_body(document: dict[str, Any]) -> str:
    """HTML e-mail body of an outgoing document (every value escaped)."""
    e = html.escape
    cell = 'style="padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"'
    rows = "".join(f"<tr><th {cell}>{e(k)}</th><td {cell}>{e(v)}</td></tr>" for k, v in key_numbers(document))
    parts = [f"<h2>{e(subject(document))}</h2>", f"<table>{rows}</table>"]
    table = drift_table(document)
    if table:
        shown = ["feature", "compared"]
        head = "".join(f"<th {cell}>{e(c)}</th>" for c in shown)
        body = "".join("<tr>" + "".join(f"<td {cell}>{e(r[c])}</td>" for c in shown) + "</tr>" for r in table)
        parts.append(f"<h3>Drifted features</h3><table><tr>{head}</tr>{body}</table>")
    link = document.get("links", {}).get("dashboard")
    if link:
        parts.append(f'<p><a href="{e(link, quote=True)}">Open in the dashboard</a></p>')
    parts.append(f"<p style=\"color:#888\">Event {e(document['id'])} ({e(document['type'])}).</p>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def _subject_of(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("alert") or event.get("request") or {}


def _num(value: Any) -> str:
    return number(value)


def _share(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.0%}"


def _time(value: Any) -> str:
    if not value:
        return "n/a"
    return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _url_time(value: Any) -> str:
    return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
