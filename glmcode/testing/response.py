"""Encode a reply as GLM's non-streamed JSON body (keys sorted, as the recorded responses)."""

from __future__ import annotations

from glmcode.testing.replies import Reply, encode_json


def response_body(reply: Reply) -> bytes:
    message: dict = {"content": "".join(reply.content)}
    if reply.reasoning:
        message["reasoning_content"] = "".join(reply.reasoning)
    message["role"] = "assistant"
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "function": {"arguments": call.arguments, "name": call.name},
                "id": call.id,
                "index": index,
                "type": "function",
            }
            for index, call in enumerate(reply.tool_calls)
        ]
    usage = reply.usage
    body = {
        "choices": [{"finish_reason": reply.finish_reason, "index": 0, "message": message}],
        "created": reply.created,
        "id": reply.id,
        "model": reply.model,
        "request_id": reply.request_id,
        "usage": {
            "completion_tokens": usage["completion_tokens"],
            "prompt_tokens": usage["prompt_tokens"],
            "prompt_tokens_details": usage["prompt_tokens_details"],
            "total_tokens": usage["total_tokens"],
        },
    }
    return encode_json(body).encode()
