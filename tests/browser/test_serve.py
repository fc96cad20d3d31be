"""The author's loop in `nox -s serve`: a prose edit reloads the open page by itself, with the
new text and without executing the tutorial again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from test_pipeline import mkdocs_project

pytestmark = pytest.mark.browser

TUTORIAL = '''"""
Served
======

The first version of the intro.
"""

# %%
# A cell
# ------
# Prose about the cell.
print("the cell's output")
'''


class Serve:
    """``mkdocs serve`` of ``project``, its log collected as it goes."""

    def __init__(self, project: Path, port: int):
        self.log: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=project,
            env={**os.environ, "TUTORIAL_CACHE_DIR": str(project / ".cache/tutorials")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.log.append(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log):
                if match := re.search(pattern, line):
                    return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"mkdocs serve did not print {pattern!r}:\n{''.join(self.log)[-3000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self.reader.join(timeout=10)
            self.process.stdout.close()


def _free_port() -> int:
    """A port free now (mkdocs serve prints the address it was given, so port 0 would not
    tell where it listens; a port taken in between fails the start loudly)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_prose_edit_reloads_the_page_by_itself_without_executing(tmp_path, browser):
    project = mkdocs_project(tmp_path, {})
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["watch"] = ["tutorials"]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    script = project / "tutorials/served.py"
    script.write_text(TUTORIAL)
    serve = Serve(project, _free_port())
    try:
        url = serve.wait_for(r"Serving on (http://\S+)", timeout=600).group(1)
        page = browser.new_page()
        page.goto(url.rstrip("/") + "/tutorials/served/")
        assert "The first version of the intro." in page.content()

        script.write_text(TUTORIAL.replace("The first version", "The edited version"))
        page.wait_for_function(
            "document.body.innerText.includes('The edited version of the intro.')",
            timeout=120_000,
        )
        assert "the cell's output" in page.content()
        executions = [line for line in serve.log if "served.py: executing" in line]
        assert len(executions) == 1, "the prose edit executed nothing"
        page.close()
    finally:
        serve.stop()
