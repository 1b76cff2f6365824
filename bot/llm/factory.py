"""The configured model client, chosen by ``llm.api`` from a small registry.

Serving through another API later is one more factory::

    @register_model("bedrock")
    def bedrock(settings: LlmSettings) -> ServedModel:
        return BedrockModel(settings)

(and that value allowed in ``LlmSettings.api``).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.llm.model import ServedModel
from bot.llm.openai_compat import OpenAICompatModel
from bot.llm.settings import LlmSettings
from bot.llm.tgi import TgiModel
from tools.errors import ConfigError

ModelFactory = Callable[[LlmSettings], ServedModel]
MODELS: dict[str, ModelFactory] = {}


def register_model(api: str) -> Callable[[ModelFactory], ModelFactory]:
    """Register the decorated factory as the client of ``llm.api == api``."""

    def register(factory: ModelFactory) -> ModelFactory:
        if api in MODELS:
            raise ValueError(f"a model client for api {api!r} is already registered")
        MODELS[api] = factory
        return factory

    return register


def model_from_settings(settings: LlmSettings) -> ServedModel | None:
    """The client for the configured server; None when ``llm.url`` is not set (no model).

    Opens no connection: the first call does. Close it with ``await model.aclose()``.
    """
    if not settings.url:
        return None
    factory = MODELS.get(settings.api)
    if factory is None:
        known = ", ".join(sorted(MODELS)) or "none"
        raise ConfigError(f"llm.api: no {settings.api!r} client (known: {known})")
    return factory(settings)


@register_model("tgi")
def tgi(settings: LlmSettings) -> ServedModel:
    return TgiModel(settings)


@register_model("openai")
def openai_compatible(settings: LlmSettings) -> ServedModel:
    return OpenAICompatModel(settings)
