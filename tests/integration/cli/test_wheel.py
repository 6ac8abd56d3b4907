"""A release as a hospital installs it: sdist and wheel built, the wheel installed in a fresh venv, the demo run."""

import os
import re
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests
from test_commands import free_port, wait_for_line

ROOT = Path(__file__).parents[3]
CHANNEL = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def installed(tmp_path):
    """Build the sdist and, from it, the wheel; pip install the wheel (and its dependencies) into a new venv."""
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(ROOT)], check=True,
                   capture_output=True, timeout=300)
    wheel, = (tmp_path / "dist").glob("osigu_widgets-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    subprocess.run([tmp_path / "venv" / "bin" / "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    return tmp_path / "venv" / "bin"


@pytest.fixture
def demo(installed, tmp_path):
    """`osigu-widgets demo` from the installed wheel, run from a folder that is not the checkout."""
    ports = [free_port() for _ in range(3)]
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    process = subprocess.Popen(
        [installed / "osigu-widgets", "demo", "--simulator-port", str(ports[0]), "--bff-port", str(ports[1]),
         "--host-port", str(ports[2])], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        wait_for_line(process, "Ctrl+C", timeout=60)
        yield f"http://127.0.0.1:{ports[1]}", f"http://localhost:{ports[2]}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()


def test_the_installed_wheel_serves_embed_js_static_files_and_widgets(installed, demo):
    code = "import bff.config, widgets.assets; print(widgets.assets.source_root()); print(bff.config.DEMO_SIGNING_KEY)"
    located = subprocess.run([installed / "python", "-c", code], capture_output=True, text=True, check=True,
                             cwd=installed).stdout.split()
    for path in located:  # the package's copies of embed.js and static/, and of the demo's v2 signing key
        assert Path(path).exists() and Path(path).is_relative_to(installed.parent)

    bff_url, host_url = demo
    host_page = requests.get(host_url, timeout=10)
    assert f'src="{bff_url}/embed.js"' in host_page.text
    assert requests.get(f"{host_url}/static/his.js", timeout=10).status_code == 200
    embed_js = requests.get(f"{bff_url}/embed.js", timeout=10)
    assert embed_js.status_code == 200 and "OsiguWidgets" in embed_js.text

    shell = requests.get(f"{bff_url}/widgets/prescription/", params={"origin": host_url, "channel": CHANNEL},
                         timeout=10)
    assert shell.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', shell.text)
    assert any("htmx" in url for url in assets) and len(assets) == 3
    for url in assets:
        assert requests.get(bff_url + url, timeout=10).status_code == 200

    # A doctor's first step renders from the installed templates and Spanish catalog.
    token = requests.post(f"{host_url}/widget-session", json={"market": "v1", "locale": "es", "patient": ""},
                          timeout=10).json()["token"]
    step = requests.get(f"{bff_url}/widgets/prescription/resume", timeout=10,
                        headers={"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": host_url})
    assert step.status_code == 200 and 'data-osigu-step="patient"' in step.text
    assert "Número de documento" in step.text
