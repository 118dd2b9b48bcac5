"""Helpers for the alerting tests: configs, stored monitor runs, and real servers on 127.0.0.1.

* :func:`alert_config`: a validated :class:`Config` with the credit model, three monitors and the
  given rules and channels.
* :func:`store_run`: a finished monitor run with its result rows, written through ``driftscope.storage.results``.
* :class:`Receiver`: a threaded HTTP server that verifies webhook signatures, can answer 500 a few
  times, and records every request.
* :class:`Mailbox`: an aiosmtpd SMTP server (plain, STARTTLS, SSL, optional login) that keeps the
  messages it receives; :func:`self_signed` makes the certificate for the TLS modes.
"""

import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from factories import CREDIT_SCHEMA, T0
from sqlalchemy import Engine

from driftscope.alerting.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from driftscope.alerting.rules import evaluate_run
from driftscope.config import Config, parse_config
from driftscope.storage.db import transaction
from driftscope.storage.registry import ensure_model, ensure_monitor, ensure_version, get_monitor
from driftscope.storage.results import (
    RunInfo,
    add_detector_events,
    add_drift_results,
    add_metric_values,
    finish_run,
    get_run,
    start_run,
)

SECRET = "test-webhook-secret"
ENV = {"HOOK_SECRET": SECRET}
MONITORS = [
    {"name": "drift", "model": "credit-default", "kind": "data_drift", "window": "1d"},
    {"name": "perf", "model": "credit-default", "kind": "performance", "window": "1d",
     "metrics": ["roc_auc", "accuracy", "log_loss"]},
    {"name": "concept", "model": "credit-default", "kind": "concept_drift", "window": "1d",
     "detectors": ["adwin", "ddm"]},
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alert_document(
    *,
    database_url: str = "sqlite:///unused.db",
    rules: list[dict[str, Any]] | None = None,
    channels: list[dict[str, Any]] | None = None,
    retrain_webhook: str | None = None,
    **sections: Any,
) -> dict[str, Any]:
    """The YAML document (as a dict) of a credit-model config with ``rules`` and ``channels``."""
    model = {
        "name": "credit-default", "task": "binary_classification",
        "versions": [{"version": "1.0", "reference": "r.pq"}], "schema": CREDIT_SCHEMA,
    }
    if retrain_webhook:
        model["retrain_webhook"] = retrain_webhook
    return {
        "database_url": database_url, "dashboard_url": "http://dash.test:8501", "models": [model],
        "monitors": MONITORS, "alerts": {"rules": rules or [], "cooldown": "1h", "resolve_after": 2},
        "channels": channels or [], **sections,
    }


def alert_config(tmp_path: Path, *, env: dict[str, str] | None = None, **kwargs: Any) -> Config:
    """A validated config (see :func:`alert_document`); ``${VAR}`` come from :data:`ENV` and ``env``."""
    return parse_config(alert_document(**kwargs), base_dir=tmp_path, env={**ENV, **(env or {})})


def webhook_channel(name: str, url: str, **options: Any) -> dict[str, Any]:
    """A webhook channel entry signed with :data:`SECRET`."""
    return {"name": name, "kind": "webhook", "url": url, "secret": "${HOOK_SECRET}", "timeout": "3s", **options}


def register(engine: Engine, config: Config) -> int:
    """Register the config's model, version 1.0 and monitors; return the version id."""
    model = config.models[0]
    with transaction(engine) as session:
        model_id, _ = ensure_model(session, name=model.name, task=model.task, retrain_webhook=model.retrain_webhook)
        version_id, _ = ensure_version(
            session, model_id=model_id, version="1.0", column_schema=CREDIT_SCHEMA, status="active"
        )
        for monitor in config.monitors:
            ensure_monitor(session, name=monitor.name, model_id=model_id, kind=monitor.kind, schedule=None,
                           window_seconds=86_400, settings={})
    return version_id


def drift_row(feature: str, drifted: bool, statistic: float = 0.3, threshold: float = 0.1) -> dict[str, Any]:
    """One ``drift_results`` row."""
    return {"feature": feature, "feature_type": "numeric", "method": "psi", "status": "ok", "statistic": statistic,
            "p_value": None, "threshold": threshold, "drifted": drifted}


def metric_row(metric: str, value: float, *, reference: float = 0.8, ci: tuple[float, float] | None = None,
               flagged: bool = False, p_value: float | None = None, status: str = "ok",
               higher_is_better: bool = True) -> dict[str, Any]:
    """One ``metric_values`` row."""
    low, high = ci or (None, None)
    return {"metric": metric, "status": status, "value": value, "ci_low": low, "ci_high": high,
            "reference_value": reference, "threshold": 0.05, "p_value": p_value, "flagged": flagged, "n": 500,
            "details": {"higher_is_better": higher_is_better}}


def store_run(
    engine: Engine,
    *,
    monitor: str,
    model_version_id: int,
    day: int = 0,
    status: str = "succeeded",
    summary: dict[str, Any] | None = None,
    drift: list[dict[str, Any]] | None = None,
    metrics: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    error: str | None = None,
) -> RunInfo:
    """Store a finished run of ``monitor`` over day ``day`` after :data:`T0` with its result rows."""
    start = T0 + dt.timedelta(days=day)
    with transaction(engine) as session:
        monitor_id = get_monitor(session, monitor).id
        run_id = start_run(session, monitor_id=monitor_id, model_version_id=model_version_id,
                           window_start=start, window_end=start + dt.timedelta(days=1))
        add_drift_results(session, run_id=run_id, rows=drift or [])
        add_metric_values(session, run_id=run_id, rows=metrics or [])
        add_detector_events(session, run_id=run_id, rows=events or [])
        finish_run(session, run_id=run_id, status=status, n_rows=1440, n_reference=4000, n_labels=500,
                   summary=summary or {}, duration_s=0.5, error=error)
        return get_run(session, run_id)


def drift_summary(n_drifted: int, n_features: int = 4, drift_share: float = 0.5) -> dict[str, Any]:
    """A data-drift run summary as the contract in :mod:`driftscope.storage.results` says."""
    share = n_drifted / n_features
    return {"dataset_drift": share >= drift_share, "drifted_share": share, "n_drifted": n_drifted,
            "n_features": n_features, "drift_share": drift_share, "prediction_drift": False}


@dataclass
class Received:
    """One request the :class:`Receiver` got."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    started: float
    finished: float
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording webhook requests.

    ``fail_first`` requests get HTTP ``fail_status`` (500) with body ``fail_body``, later ones 200;
    ``delay_s`` holds each response that long.
    """

    fail_first: int = 0
    fail_status: int = 500
    fail_body: bytes = b"boom"
    delay_s: float = 0.0
    secret: str = SECRET
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                started = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay_s)
                ok = verify(receiver.secret, timestamp=self.headers.get(TIMESTAMP_HEADER, ""), body=body,
                            signature=self.headers.get(SIGNATURE_HEADER, ""))
                with receiver._lock:
                    status = receiver.fail_status if len(receiver.requests) < receiver.fail_first else 200
                    receiver.requests.append(Received(self.path, dict(self.headers), body, ok, started, time.time(),
                                                      status))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else receiver.fail_body)

            def do_GET(self) -> None:
                """An empty page of the http source protocol: ``{"items": [], "next": null}``."""
                started = time.time()
                time.sleep(receiver.delay_s)
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), b"", False, started, time.time(),
                                                      200))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"items": [], "next": null}')

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[Received]:
        """Requests answered 200."""
        with self._lock:
            return [r for r in self.requests if r.status == 200]

    def wait_for(self, n: int, timeout: float = 15.0) -> list[Received]:
        """Wait until ``n`` requests were answered 200 (bounded); return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered()) < n:
            time.sleep(0.05)
        return self.delivered()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost; returns (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Mailbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) keeping what it receives.

    ``mode`` is ``plain``, ``starttls`` (TLS required before MAIL) or ``ssl``; with ``login`` set to
    (user, password), AUTH LOGIN/PLAIN is required and checked.
    """

    def __init__(self, mode: str = "plain", *, cert: tuple[Path, Path] | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.mode, self.login, self.port = mode, login, free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, cert))
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port}
        if mode == "ssl":
            kwargs["ssl_context"] = context
        elif mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if login is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=mode == "starttls")
        else:
            kwargs.update(auth_require_tls=False)
        self._controller = Controller(self, **kwargs)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> "Mailbox":
        self._controller.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._controller.stop()


def fired_drift_alert(engine: Engine, config: Config, version_id: int, *, day: int = 0) -> int:
    """Store a drifted run of monitor ``drift`` and evaluate the rules on it; return the alert id."""
    run = store_run(engine, monitor="drift", model_version_id=version_id, day=day, summary=drift_summary(3),
                    drift=[drift_row("income", True, 0.42, 0.2), drift_row("age", True, 0.3, 0.2),
                           drift_row("region", True, 0.12, 0.1), drift_row("has_card", False, 0.01, 0.1)])
    with transaction(engine) as session:
        [change] = evaluate_run(session, config, run)
    return change.alert_id


DRIFT_RULE = {"name": "drifted", "monitor": "drift", "when": "dataset_drift", "severity": "warning"}


class SchedulerProcess:
    """A real ``driftscope scheduler`` subprocess whose log goes to a file; always stopped on exit."""

    def __init__(self, config: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        command = [str(Path(sys.executable).parent / "driftscope"), "scheduler", "--config", str(config), *args]
        self.log_path = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(command, cwd=config.parent, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **ENV, **(env or {})})

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        """Wait (bounded) until ``text`` appears in the log; False if it did not or the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            if self.process.poll() is not None:
                return text in self.log()
            time.sleep(0.1)
        return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the exit status (killed after ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)
        finally:
            self._log.close()

    def __enter__(self) -> "SchedulerProcess":
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self.process.poll() is None:
            self.stop(signal.SIGKILL, timeout=10)
        self._log.close()


def write_yaml(path: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as YAML to ``path``."""
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
