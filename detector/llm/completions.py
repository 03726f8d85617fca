"""The wire shapes of one chat completion, shared by online calls and Batch API lines.

``LLMClient`` builds every request body with ``response_format_for`` and judges every answer with
``read_completion``; the batch path reads its output lines with the same function, so an answer is
``ok``, ``refused`` or ``invalid`` by the same rules whichever way it travelled.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def response_format_param(model: type[BaseModel]) -> dict:
    """The ``json_schema`` response format the SDK's ``parse`` helper would send for ``model`` (strict)."""
    from openai.lib._parsing import type_to_response_format_param

    return dict(type_to_response_format_param(model))


RESPONSE_FORMATS = ("json_schema", "json_object")


def response_format_for(model: type[BaseModel], mode: str = "json_schema") -> dict:
    """The ``response_format`` of a structured request in the server's dialect.

    ``json_schema`` is OpenAI's structured output (also served by vLLM, Ollama and llama.cpp's
    ``llama-server``). ``json_object`` is the older JSON mode, for servers that refuse
    ``json_schema``: llama-cpp-python's server (measured: it answers HTTP 500 to ``json_schema``)
    reads the extra ``schema`` key to constrain its grammar, others ignore it; the schema is also
    spelled out in the system message (``with_schema_instruction``). Either way the answer is
    validated by ``read_completion``, so a server that ignores the format only costs retries.
    """
    if mode == "json_object":
        return {"type": "json_object", "schema": _shape_only(_for_model(model))}
    if mode != "json_schema":
        raise ValueError(f"unknown response format {mode!r}: one of {', '.join(RESPONSE_FORMATS)}")
    return response_format_param(model)


def _for_model(model: type[BaseModel]) -> dict:
    """The schema a model reads: the class docstring is written for engineers, not for the model (a
    real small model copied it into its ``reason``, measured), so the top-level description goes."""
    schema = model.model_json_schema()
    schema.pop("description", None)
    return schema


_BOUNDS = {"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


def _shape_only(schema):
    """The schema without length and range bounds: grammar-constrained servers turn ``maxLength: 2000``
    into a 2,000-fold repetition rule (llama-cpp-python failed to parse it and its server died,
    measured); ``read_completion`` still enforces every bound."""
    if isinstance(schema, dict):
        return {k: _shape_only(v) for k, v in schema.items() if k not in _BOUNDS}
    if isinstance(schema, list):
        return [_shape_only(v) for v in schema]
    return schema


def with_schema_instruction(messages: list[dict], model: type[BaseModel]) -> list[dict]:
    """A copy of ``messages`` whose first system message ends by naming the JSON shape to answer with."""
    import json

    note = ("\n\nAnswer with one JSON object and nothing else, matching this JSON schema:\n"
            + json.dumps(_for_model(model), separators=(",", ":")))
    out = [dict(m) for m in messages]
    for message in out:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            message["content"] += note
            return out
    return [{"role": "system", "content": note.strip()}, *out]


def read_completion(answer: Any, response_format: type[BaseModel] | None) -> tuple[str, Any, str | None]:
    """``(status, value, error)`` of one ``chat.completion`` body, online or from a batch output line.

    The same checks as the SDK's ``parse`` helper: a token-limit cut is ``invalid``, a content filter
    stop or a ``refusal`` is ``refused``, and structured output must validate as ``response_format``;
    anything else malformed is ``invalid``. Never a made-up value.
    """
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "invalid", None, "answer without choices" if isinstance(answer, dict) else "malformed answer"
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    if choice.get("finish_reason") == "length":
        return "invalid", None, "answer cut off at the token limit"
    if choice.get("finish_reason") == "content_filter":
        return "refused", None, "stopped by the provider's content filter"
    if message.get("refusal"):
        return "refused", None, f"refused: {str(message['refusal'])[:300]}"
    text = message.get("content")
    if not isinstance(text, str) or not text.strip():
        return "invalid", None, "empty answer"
    if response_format is None:
        return "ok", text.strip(), None
    try:
        return "ok", response_format.model_validate_json(text), None
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        return "invalid", None, f"malformed answer: {type(err).__name__}: {str(err)[:300]}"


def usage_of(answer: Any) -> tuple[int, int]:
    """``(prompt_tokens, completion_tokens)`` of a completion body; ``(0, 0)`` when it has none."""
    try:
        usage = answer.get("usage") or {}
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0, 0
