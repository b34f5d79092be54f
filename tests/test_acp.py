"""`glmcode acp` driven over stdio by a JSON-RPC client, as an editor drives it, against the
fake GLM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from acp_harness import AgentProcess, texts


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Any]:
    started: list[AgentProcess] = []

    def start(fake: Any, cwd: Path | None = None, args: tuple[str, ...] = (), **env: str) -> AgentProcess:
        folder = cwd or tmp_path / "project"
        folder.mkdir(exist_ok=True)
        agent = AgentProcess(folder, {"ZAI_API_KEY": "test-key", "GLMCODE_BASE_URL": fake.base_url, **env}, args)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.kill()


def test_say_ok_streams_the_answer_and_ends_the_turn(fake_glm, start_agent, tmp_path: Path) -> None:
    fake = fake_glm([{"content": ["O", "K", ", done."]}])
    agent = start_agent(fake)
    init = agent.initialize()
    assert init["result"]["protocolVersion"] == 1
    assert init["result"]["agentCapabilities"]["loadSession"] is True
    session = agent.new_session(tmp_path / "project")
    response = agent.prompt(session, "Say OK")
    assert response["result"] == {"stopReason": "end_turn"}
    chunks = agent.updates("agent_message_chunk")
    assert len(chunks) == 3
    assert texts(chunks) == "OK, done."
    assert fake.requests[0].body["messages"][-1] == {"role": "user", "content": "Say OK"}
    assert agent.close() == 0
    assert all(line.startswith(b"{") for line in agent.raw_lines)
