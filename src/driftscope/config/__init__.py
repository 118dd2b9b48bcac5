"""Declarative configuration: ``driftscope.yaml`` validated with pydantic.

Load with :func:`load_config`; the models live in :mod:`driftscope.config.schema`.
"""

from driftscope.config.load import load_config, parse_config
from driftscope.config.schema import (
    ChannelConfig,
    Config,
    EmailChannel,
    ModelConfig,
    MonitorConfig,
    RuleConfig,
    SchemaConfig,
    SourceConfig,
    VersionConfig,
    WebhookChannel,
)

__all__ = [
    "ChannelConfig",
    "Config",
    "EmailChannel",
    "ModelConfig",
    "MonitorConfig",
    "RuleConfig",
    "SchemaConfig",
    "SourceConfig",
    "VersionConfig",
    "WebhookChannel",
    "load_config",
    "parse_config",
]
