"""A minimal Language Server Protocol client: what an editor does with yaml-language-server.

It starts the server, points `yaml.schemas` at a schema file for every YAML file,
opens the files and collects the diagnostics the server publishes for each.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any


class Server:
    def __init__(self, command: list[str], schema: Path) -> None:
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.settings = {
            "validate": True,
            "schemas": {schema.resolve().as_uri(): ["*.yaml", "*.yml"]},
            "schemaStore": {"enable": False},
        }
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while (line := stream.readline().decode()) not in ("\r\n", "\n"):
                if not line:
                    return
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(stream.read(length)))

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        self.proc.stdin.flush()

    def _pump(self, seconds: float) -> None:
        """Answer the server's requests and keep its latest diagnostics, for ``seconds``."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            try:
                message = self.inbox.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            method = message.get("method")
            if method == "textDocument/publishDiagnostics":
                params = message["params"]
                self.diagnostics[params["uri"]] = params["diagnostics"]
            elif method == "workspace/configuration":
                items = message["params"]["items"]
                self._send({"id": message["id"], "result": [self.settings for _ in items]})
            elif method is not None and "id" in message:
                self._send({"id": message["id"], "result": None})

    def diagnose(self, files: list[Path], timeout: float = 120) -> dict[Path, list[str]]:
        """``line:col: message`` (1-based) of every diagnostic, per file."""
        capabilities = {"workspace": {"configuration": True}}
        self._send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": capabilities},
            }
        )
        self._send({"method": "initialized", "params": {}})
        self._send(
            {
                "method": "workspace/didChangeConfiguration",
                "params": {"settings": {"yaml": self.settings}},
            }
        )
        for path in files:
            document = {
                "uri": path.resolve().as_uri(),
                "languageId": "yaml",
                "version": 1,
                "text": path.read_text(encoding="utf-8"),
            }
            self._send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        wanted = {path.resolve().as_uri() for path in files}
        deadline = time.monotonic() + timeout
        while not wanted <= set(self.diagnostics) and time.monotonic() < deadline:
            self._pump(0.5)
        self._pump(2.0)  # a file may be validated again once the schema has loaded
        self.proc.kill()
        self.proc.wait()
        return {
            path: [
                f"{d['range']['start']['line'] + 1}:{d['range']['start']['character'] + 1}: "
                f"{d['message']}"
                for d in self.diagnostics.get(path.resolve().as_uri(), [])
            ]
            for path in files
        }
