"""The README's run command, as a new user calls it."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dev.py"


def _dev(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_run_help_prints_help():
    result = _dev("run", "--help")

    assert result.returncode == 0
    assert "REGISTRE_ADDRESS" in result.stdout


def test_run_with_argument_rejected():
    result = _dev("run", "--port", "8011")

    assert result.returncode == 1
    assert "run takes only --no-demo, not '--port 8011'" in result.stderr
