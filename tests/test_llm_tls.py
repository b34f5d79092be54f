"""The TLS context begun early (llm/tls.py): made as httpx makes its own, and the one the client
uses, against a real HTTPS server on 127.0.0.1 with a certificate made for the test."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from glmcode.llm.client import GLMClient
from glmcode.llm.errors import GLMError
from glmcode.llm.tls import EarlyContext
from glmcode.llm.types import ClientConfig

REPLY = Path(__file__).parent / "fixtures" / "glm-recordings" / "simple.0.response.json"


@pytest.fixture
def https_glm(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server answering every POST with a recorded GLM reply, over TLS; its URL and the
    certificate that vouches for it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed, so no certificate can be made for the test server")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    reply = REPLY.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def _ask(url: str, tls: object) -> str:
    config = ClientConfig(api_key="k", base_url=url, max_attempts=1, tls=tls)  # type: ignore[arg-type]
    with GLMClient(config) as client:
        return client.complete([{"role": "user", "content": "hi"}]).content


def test_the_early_context_trusts_what_ssl_cert_file_names(https_glm, monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = https_glm
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    expected = json.loads(REPLY.read_text())["choices"][0]["message"]["content"]
    assert _ask(url, EarlyContext()) == expected


def test_without_it_the_certificate_is_refused(https_glm, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = https_glm
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(GLMError, match="(?i)certificate"):
        _ask(url, EarlyContext())  # certifi's bundle does not know the test's certificate


def test_an_error_making_the_context_is_raised_to_whoever_asks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    early = EarlyContext()
    with pytest.raises(FileNotFoundError):
        early()
