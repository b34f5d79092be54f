"""The fake GLM server, over real HTTP on 127.0.0.1: fidelity to recorded traffic and faults."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from glmcode.testing import FakeGLM, ScriptError, http_error, reply, tool_call

from conftest import RECORDINGS

SSE_CASES = sorted(RECORDINGS.glob("*.sse"))
RESPONSE_CASES = sorted(RECORDINGS.glob("*.response.json"))

USER = {"role": "user", "content": "hi"}


def chat(fake: FakeGLM, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{fake.base_url}/chat/completions", json=body, timeout=10, **kwargs)


def raw_post(fake: FakeGLM, body: dict, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """Status, lower-cased headers and the exact (de-chunked) body bytes."""
    url = urlsplit(fake.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(
            "POST",
            url.path + "/chat/completions",
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def events(data: bytes) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    out = []
    for block in data.decode().split("\n\n"):
        if block:
            assert block.startswith("data: "), block
            out.append(block[len("data: ") :])
    return out


def chunks(data: bytes) -> list[dict]:
    return [json.loads(e) for e in events(data) if e != "[DONE]"]


def deltas(data: bytes) -> list[dict]:
    return [c["choices"][0]["delta"] for c in chunks(data)]


def in_order(value: dict) -> list:
    """A JSON value with its key order made visible to ==."""
    if isinstance(value, dict):
        return [[k, in_order(v)] for k, v in value.items()]
    if isinstance(value, list):
        return [in_order(v) for v in value]
    return value


def stream_body(**extra) -> dict:
    return {"model": "glm-4.6", "stream": True, "messages": [USER], **extra}


# --- fidelity to recorded traffic -----------------------------------------------------------


def turn_from_sse(raw: bytes) -> dict:
    reasoning, content, calls = [], [], []
    final: dict = {}
    for chunk in chunks(raw):
        choice = chunk["choices"][0]
        delta = choice["delta"]
        if "finish_reason" in choice:
            final = chunk
        elif "tool_calls" in delta:
            calls.extend(
                {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                for c in delta["tool_calls"]
            )
        elif "reasoning_content" in delta:
            reasoning.append(delta["reasoning_content"])
        else:
            content.append(delta["content"])
    usage = final["usage"]
    return {
        "id": final["id"],
        "created": final["created"],
        "model": final["model"],
        "reasoning": reasoning,
        "content": content,
        "tool_calls": calls,
        "finish_reason": final["choices"][0]["finish_reason"],
        "usage": {
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
        },
    }


def turn_from_response(recorded: dict) -> dict:
    message = recorded["choices"][0]["message"]
    usage = recorded["usage"]
    return {
        "id": recorded["id"],
        "created": recorded["created"],
        "model": recorded["model"],
        "reasoning": message["reasoning_content"],
        "content": message["content"],
        "tool_calls": [
            {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in message.get("tool_calls", [])
        ],
        "finish_reason": recorded["choices"][0]["finish_reason"],
        "usage": {
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
        },
    }


def recorded_request(case: Path, suffix: str) -> dict:
    return json.loads(Path(str(case).replace(suffix, ".request.json")).read_text())["body"]


@pytest.mark.parametrize("case", SSE_CASES, ids=lambda p: p.name)
def test_stream_reproduces_recording_byte_for_byte(case: Path) -> None:
    recorded = case.read_bytes()
    request = recorded_request(case, ".sse")
    assert request["stream"] is True
    with FakeGLM([turn_from_sse(recorded)]) as fake:
        status, headers, body = raw_post(fake, request)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert [in_order(c) for c in chunks(body)] == [in_order(c) for c in chunks(recorded)]
    assert body == recorded


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=lambda p: p.name)
def test_whole_response_reproduces_recording(case: Path) -> None:
    recorded = case.read_bytes()
    request = recorded_request(case, ".response.json")
    assert not request.get("stream")
    with FakeGLM([turn_from_response(json.loads(recorded))]) as fake:
        status, headers, body = raw_post(fake, request)
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert in_order(json.loads(body)) == in_order(json.loads(recorded))
    assert body == recorded


def test_sse_file_and_response_file_are_served_verbatim() -> None:
    sse, response = SSE_CASES[0], RESPONSE_CASES[0]
    with FakeGLM([{"sse_file": str(sse)}, {"response_file": str(response)}]) as fake:
        assert raw_post(fake, stream_body())[2] == sse.read_bytes()
        assert raw_post(fake, {"messages": [USER]})[2] == response.read_bytes()


# --- generated replies ----------------------------------------------------------------------


def test_text_is_streamed_as_token_pieces_in_glm_shapes() -> None:
    turn = reply("\nHello there, friend.", reasoning="\nThe user greets me.  \n")
    with FakeGLM([turn]) as fake:
        body = chat(fake, stream_body()).content
    all_chunks = chunks(body)
    found = deltas(body)
    assert in_order(found[0]) == in_order(
        {"role": "assistant", "content": "", "reasoning_content": "\n"}
    )
    assert [d.get("reasoning_content") for d in found[:6]] == [
        "\n", "The", " user", " greets", " me.", "  \n",
    ]
    # A blank reasoning piece carries an empty content key, as in GLM's streams.
    assert in_order(found[5]) == in_order(
        {"role": "assistant", "content": "", "reasoning_content": "  \n"}
    )
    assert in_order(found[1]) == in_order({"role": "assistant", "reasoning_content": "The"})
    assert [in_order(d) for d in found[6:10]] == [
        in_order({"role": "assistant", "content": p}) for p in ["\n", "Hello", " there,", " friend."]
    ]
    for middle in all_chunks[:-1]:
        assert list(middle) == ["id", "created", "model", "choices"]
        assert list(middle["choices"][0]) == ["index", "delta"]
    last = all_chunks[-1]
    assert list(last) == ["id", "created", "model", "choices", "usage"]
    assert in_order(last["choices"][0]) == in_order(
        {"index": 0, "finish_reason": "stop", "delta": {"role": "assistant", "content": ""}}
    )
    assert list(last["usage"]) == [
        "prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details",
    ]
    assert events(body)[-1] == "[DONE]"
    assert re.fullmatch(r"\d{14}[0-9a-f]{16}", last["id"])
    assert last["model"] == "glm-4.6"
    assert len({c["id"] for c in all_chunks}) == 1


def test_explicit_pieces_are_streamed_exactly() -> None:
    with FakeGLM([reply(["Hel", "lo", " wor", "ld"])]) as fake:
        found = deltas(chat(fake, stream_body()).content)
    assert [d.get("content") for d in found] == ["Hel", "lo", " wor", "ld", ""]


def test_tool_calls_arrive_whole_without_tool_stream() -> None:
    calls = [tool_call("read_file", {"path": "a.py"}), tool_call("grep", '{"pattern": "x"', id="c1")]
    with FakeGLM([reply(tool_calls=calls)]) as fake:
        body = chat(fake, stream_body(tools=[])).content
    found = [d for d in deltas(body) if "tool_calls" in d]
    assert [list(d) for d in found] == [["tool_calls"], ["tool_calls"]]
    first, second = (d["tool_calls"][0] for d in found)
    assert list(first) == ["id", "index", "type", "function"]
    assert re.fullmatch(r"call_[0-9a-f]{24}", first["id"])
    assert first["function"] == {"name": "read_file", "arguments": '{"path":"a.py"}'}
    assert list(first["function"]) == ["name", "arguments"]
    assert (second["id"], second["index"], second["function"]["arguments"]) == (
        "c1", 1, '{"pattern": "x"',
    )
    assert chunks(body)[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_stream_fragments_reassemble_and_repeat_ids() -> None:
    write_args = {"path": "src/app.py", "content": "def main():\n    print('hello, world')\n"}
    calls = [tool_call("write_file", write_args), tool_call("run_shell", {"command": "pytest -q"})]
    with FakeGLM([reply("\nWriting it.", tool_calls=calls)]) as fake:
        body = chat(fake, stream_body(tool_stream=True, tools=[])).content
    pieces = [d["tool_calls"][0] for d in deltas(body) if "tool_calls" in d]
    by_index: dict[int, list[dict]] = {}
    for piece in pieces:
        by_index.setdefault(piece["index"], []).append(piece)
    assert sorted(by_index) == [0, 1]
    for index, expected in enumerate(calls):
        opening, *rest = by_index[index]
        assert in_order(opening) == in_order(
            {
                "id": opening["id"],
                "index": index,
                "type": "function",
                "function": {"name": expected["name"], "arguments": ""},
            }
        )
        assert len(rest) > 3
        assert all(list(p["function"]) == ["arguments"] for p in rest)
        assert all("type" not in p for p in rest)
        arguments = "".join(p["function"]["arguments"] for p in rest)
        assert json.loads(arguments) == expected["arguments"]
        repeated = [p["id"] for p in rest if "id" in p]
        assert repeated and set(repeated) == {opening["id"]}
    # Calls come one after the other, never interleaved.
    assert [p["index"] for p in pieces] == sorted(p["index"] for p in pieces)


def test_non_streamed_reply_has_glm_response_shape() -> None:
    turn = reply("Done.", reasoning="\nThinking.", tool_calls=[tool_call("glob", {"pattern": "*"})])
    with FakeGLM([turn, reply("Plain.")]) as fake:
        first = chat(fake, {"model": "glm-4.5", "messages": [USER], "request_id": "req-123456"})
        second = chat(fake, {"messages": [USER]})
    data = first.json()
    assert list(data) == ["choices", "created", "id", "model", "request_id", "usage"]
    message = data["choices"][0]["message"]
    assert list(message) == ["content", "reasoning_content", "role", "tool_calls"]
    assert message["reasoning_content"] == "\nThinking."
    assert message["tool_calls"][0]["function"] == {"arguments": '{"pattern":"*"}', "name": "glob"}
    assert message["tool_calls"][0]["index"] == 0
    assert data["choices"][0]["finish_reason"] == "tool_calls"
    assert (data["model"], data["request_id"]) == ("glm-4.5", "req-123456")
    plain = second.json()
    assert plain["choices"][0]["message"] == {"content": "Plain.", "role": "assistant"}
    assert plain["request_id"] == plain["id"]
    assert plain["model"] == "glm-4.6"


def test_usage_is_estimated_with_a_prompt_cache() -> None:
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {}}}]
    system = {"role": "system", "content": "You are glmcode. " * 40}
    first = {"model": "glm-4.6", "stream": True, "tools": tools, "messages": [system, USER]}
    second = {**first, "messages": [system, USER, {"role": "assistant", "content": "ok"}, USER]}
    edited = {**first, "messages": [{"role": "system", "content": "Other."}, USER]}
    content = "\nabcdefgh ijklmnop"
    script = [reply(content), reply("x"), reply("y"), reply("z", usage={"cached_tokens": 7})]
    with FakeGLM(script) as fake:
        bodies = (first, second, edited, edited)
        usages = [chunks(raw_post(fake, body)[2])[-1]["usage"] for body in bodies]
    sent = json.dumps(first).encode()
    assert usages[0]["prompt_tokens"] == len(sent) // 4
    assert usages[0]["completion_tokens"] == len(content) // 4
    assert usages[0]["total_tokens"] == usages[0]["prompt_tokens"] + usages[0]["completion_tokens"]
    assert usages[0]["prompt_tokens_details"]["cached_tokens"] == 0
    # Appending to the history keeps everything before the appended part cached.
    def prompt(body: dict) -> str:
        return json.dumps([tools, body["messages"]], separators=(",", ":"))

    assert usages[1]["prompt_tokens_details"]["cached_tokens"] == (len(prompt(first)) - 2) // 4
    # Rewriting the system prompt loses the cache from the first changed character on.
    shared = os.path.commonprefix([prompt(second), prompt(edited)])
    assert shared.endswith('"content":"')
    assert usages[2]["prompt_tokens_details"]["cached_tokens"] == len(shared) // 4
    assert usages[3]["prompt_tokens_details"]["cached_tokens"] == 7


def test_callable_turn_answers_from_the_request() -> None:
    def echo(body: dict) -> dict:
        return reply("you said " + body["messages"][-1]["content"])

    with FakeGLM({"turns": [echo, lambda body: {"oops": 1}]}) as fake:
        assert len(fake.remaining) == 2 and fake.remaining[0] is echo
        answer = chat(fake, {"messages": [{"role": "user", "content": "ping"}]})
        broken = chat(fake, {"messages": [USER]})
        assert fake.remaining == []
    assert answer.json()["choices"][0]["message"]["content"] == "you said ping"
    assert broken.status_code == 500
    assert "turn 2" in broken.json()["error"]["message"]


def test_requests_are_recorded_with_lower_case_headers() -> None:
    with FakeGLM([reply("a")]) as fake:
        chat(fake, stream_body(), headers={"X-Trace-Id": "t-1", "Authorization": "Bearer k"})
        recorded = fake.requests
    assert len(recorded) == 1
    assert recorded[0].path == "/api/paas/v4/chat/completions"
    assert recorded[0].headers["x-trace-id"] == "t-1"
    assert recorded[0].headers["authorization"] == "Bearer k"
    assert all(name == name.lower() for name in recorded[0].headers)
    assert recorded[0].body == stream_body()


def test_chunked_request_bodies_are_read() -> None:
    with FakeGLM([reply("ok")]) as fake:
        url = urlsplit(fake.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        pieces = [b'{"messages": [{"role": "user", ', b'"content": "hi"}]}']
        conn.request("POST", url.path + "/chat/completions", body=iter(pieces), encode_chunked=True)
        assert conn.getresponse().status == 200
        conn.close()
        assert fake.requests[0].body == {"messages": [USER]}


def test_keep_alive_reuses_the_connection_and_stop_closes_it() -> None:
    with FakeGLM([reply("one"), reply("two")]) as fake:
        url = urlsplit(fake.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("POST", url.path + "/chat/completions", body=json.dumps(stream_body()))
        assert b"one" in conn.getresponse().read()
        sock = conn.sock
        assert sock is not None
        conn.request("POST", url.path + "/chat/completions", body=json.dumps(stream_body()))
        assert b"two" in conn.getresponse().read()
        assert conn.sock is sock
    # stop() ended the idle keep-alive connection rather than leaving it served.
    sock.settimeout(5)
    assert sock.recv(1) == b""
    conn.close()


def test_script_file_resolves_recordings_beside_it(tmp_path: Path) -> None:
    (tmp_path / "answer.json").write_text('{"id": "x"}')
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [{"response_file": "answer.json"}, {"content": "b"}]}))
    with FakeGLM(script) as fake:
        assert chat(fake, {"messages": [USER]}).content == b'{"id": "x"}'
        assert len(fake.remaining) == 1


def test_bad_scripts_are_refused_up_front() -> None:
    with pytest.raises(ScriptError, match="unknown key"):
        FakeGLM([{"contents": "typo"}])
    with pytest.raises(ScriptError, match="arguments"):
        FakeGLM([{"tool_calls": [{"name": "x", "arguments": 3}]}])
    with pytest.raises(ScriptError, match="turns"):
        FakeGLM({"turn": []})


# --- faults -----------------------------------------------------------------------------------


def test_http_error_with_retry_after_consumes_the_turn() -> None:
    script = [http_error(429, "1302", "High concurrency", retry_after=2), reply("after")]
    with FakeGLM(script) as fake:
        failed = chat(fake, stream_body())
        assert len(fake.remaining) == 1
        ok = chat(fake, stream_body())
    assert failed.status_code == 429
    assert failed.headers["retry-after"] == "2"
    assert failed.json() == {"error": {"code": "1302", "message": "High concurrency"}}
    assert ok.status_code == 200 and b"after" in ok.content


def test_error_without_retry_after_has_no_header() -> None:
    with FakeGLM([http_error(500, "500", "boom")]) as fake:
        failed = chat(fake, stream_body())
    assert failed.status_code == 500
    assert "retry-after" not in failed.headers


def read_until_closed(fake: FakeGLM, body: dict) -> bytes:
    """Everything the server sends on one connection until it closes it."""
    url = urlsplit(fake.base_url)
    payload = json.dumps(body).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST %s/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (url.path.encode(), len(payload), payload)
        )
        received = []
        while data := sock.recv(65536):
            received.append(data)
    return b"".join(received)


def test_cut_after_drops_the_connection_mid_stream() -> None:
    cut = reply("one two three four five", cut_after=3)
    with FakeGLM([cut, cut]) as fake:
        raw = read_until_closed(fake, stream_body())
        with pytest.raises(httpx.RemoteProtocolError):
            chat(fake, stream_body())
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert rest.count(b"data: ") == 3
    assert b"[DONE]" not in rest
    assert not rest.endswith(b"0\r\n\r\n")


def test_cut_after_beyond_the_end_still_withholds_done() -> None:
    with FakeGLM([reply("short", cut_after=99)]) as fake:
        raw = read_until_closed(fake, stream_body())
    assert b'"finish_reason":"stop"' in raw
    assert b"[DONE]" not in raw


def test_malformed_chunk_is_not_json() -> None:
    with FakeGLM([reply("one two three", malformed_at=1)]) as fake:
        body = chat(fake, stream_body()).content
    found = events(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(found[1])
    assert [json.loads(e)["choices"][0]["delta"]["content"] for e in found[:1] + found[2:5]] == [
        "one", " two", " three", "",
    ]
    assert found[-1] == "[DONE]"


def test_stream_error_ends_the_stream_with_an_error_event() -> None:
    turn = reply("partial answer", stream_error={"code": "1234", "message": "network error"})
    with FakeGLM([turn]) as fake:
        response = chat(fake, stream_body())
    found = events(response.content)
    assert response.status_code == 200
    assert json.loads(found[-1]) == {"error": {"code": "1234", "message": "network error"}}
    assert "[DONE]" not in found
    assert [json.loads(e)["choices"][0]["delta"]["content"] for e in found[:-1]] == [
        "partial", " answer",
    ]


def test_delay_paces_the_chunks() -> None:
    with FakeGLM([reply(["a", "b", "c"], delay=0.05)]) as fake:
        started = time.monotonic()
        with httpx.stream("POST", f"{fake.base_url}/chat/completions", json=stream_body()) as r:
            arrivals = [time.monotonic() for _ in r.iter_lines() if _]
    # Five events (three pieces, the final chunk, [DONE]) leave four gaps of 50 ms.
    assert len(arrivals) == 5
    assert arrivals[-1] - started >= 0.2


def test_first_byte_delay_holds_back_the_headers() -> None:
    with FakeGLM([reply("late", first_byte_delay=0.2)]) as fake:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{fake.base_url}/chat/completions", json=stream_body(), timeout=0.05)
    with FakeGLM([reply("late", first_byte_delay=0.2)]) as fake:
        started = time.monotonic()
        response = chat(fake, stream_body())
        assert time.monotonic() - started >= 0.2
    assert b"late" in response.content


def test_exhausted_script_answers_1214() -> None:
    with FakeGLM([reply("only")]) as fake:
        chat(fake, stream_body())
        failed = chat(fake, stream_body())
    assert failed.status_code == 400
    assert failed.json() == {
        "error": {"code": "1214", "message": "fake GLM: the script has no turn 2 (it has 1)"}
    }


def test_wrong_or_missing_key_gets_401_without_echo() -> None:
    with FakeGLM([reply("welcome")], api_key="sekrit-key") as fake:
        wrong = chat(fake, stream_body(), headers={"Authorization": "Bearer guessed-key"})
        missing = chat(fake, stream_body())
        assert len(fake.remaining) == 1
        right = chat(fake, stream_body(), headers={"Authorization": "Bearer sekrit-key"})
    for failed in (wrong, missing):
        assert failed.status_code == 401
        assert failed.json()["error"]["code"] == "1001"
        assert b"sekrit" not in failed.content and b"guessed" not in failed.content
    assert right.status_code == 200 and b"welcome" in right.content


def test_unknown_path_is_404_and_keeps_the_turn() -> None:
    with FakeGLM([reply("x")]) as fake:
        response = httpx.post(fake.base_url + "/embeddings", json={})
        assert response.status_code == 404
        assert len(fake.remaining) == 1


def test_stop_interrupts_a_slow_stream() -> None:
    fake = FakeGLM([reply(["a", "b"], delay=30)]).start()
    url = fake.base_url
    outcome: list[object] = []
    first_line = threading.Event()

    def consume() -> None:
        try:
            with httpx.stream("POST", f"{url}/chat/completions", json=stream_body(), timeout=60) as r:
                for line in r.iter_lines():
                    outcome.append(line)
                    first_line.set()
        except httpx.HTTPError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=consume)
    reader.start()
    assert first_line.wait(10)
    started = time.monotonic()
    fake.stop()
    reader.join(10)
    assert time.monotonic() - started < 10
    assert not reader.is_alive()
    assert "data: [DONE]" not in outcome


# --- command line -------------------------------------------------------------------------------


def test_cli_serves_a_script_until_killed(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [{"content": "from the CLI"}]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "glmcode.testing.fake_glm", "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/paas/v4", base_url), base_url
        response = httpx.post(f"{base_url}/chat/completions", json={"messages": [USER]}, timeout=10)
        assert response.json()["choices"][0]["message"]["content"] == "from the CLI"
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 0
    assert process.stderr.read() == ""


def test_cli_reports_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text('{"turns": [{"nope": 1}]}')
    done = subprocess.run(
        [sys.executable, "-m", "glmcode.testing.fake_glm", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown key" in done.stderr
