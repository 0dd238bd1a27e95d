"""The fundflow service run as a real process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


class Service:
    def __init__(self, url: str, workdir: Path) -> None:
        self.database_url = url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDFLOW_")}
        self.env.update(FUNDFLOW_DATABASE_URL=url, FUNDFLOW_ROLE="admin", FUNDFLOW_LOG_LEVEL="INFO")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "service.log").open("w")
        self.process: subprocess.Popen[bytes] | None = None

    def token(self, identity: str, role: str, *units: str, clearance: bool = False) -> str:
        """A token (clerks and closers need the units they work for)."""
        scope = [arg for unit in units for arg in ("--unit", unit)]
        scope += ["--clearance"] if clearance else []
        done = subprocess.run(
            [FUNDFLOW, "tokens", "create", "--identity", identity, "--token-role", role, *scope],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def open_funded_line(
        self,
        admin: dict[str, str],
        unit: str,
        name: str,
        line: str,
        title: str,
        **allocation: object,
    ) -> None:
        """Over HTTP, as admin: register ``unit``, open its 2024, open one public-operating
        line and allocate to it (``allocation``: amount, document_no, initial…)."""
        setup = [
            ("/v1/units", {"code": unit, "name": name, "business_date": "2024-01-01"}),
            (f"/v1/units/{unit}/years", {"year": 2024, "business_date": "2024-01-01"}),
            (
                f"/v1/units/{unit}/years/2024/lines",
                {
                    "line": line,
                    "title": title,
                    "nature": "basic_public",
                    "function_code": "2010301",
                    "business_date": "2024-01-01",
                },
            ),
            (
                f"/v1/units/{unit}/years/2024/lines/{line}/allocations",
                {"business_date": "2024-01-01", **allocation},
            ),
        ]
        with httpx.Client(base_url=self.base, headers=admin, timeout=30) as client:
            for n, (path, body) in enumerate(setup):
                response = client.post(path, json=body, headers={"Idempotency-Key": f"setup-{n}"})
                assert response.status_code == 201, response.text

    def start(self) -> None:
        self.process = subprocess.Popen(
            [FUNDFLOW, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=40)
        self.log.close()
