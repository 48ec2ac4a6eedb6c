"""The package (with its generated .pyi stubs), the examples and these tests pass `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "targets",
    [
        pytest.param(["-p", "ticketd_client"], id="package"),  # as installed, as its users see it
        pytest.param(
            [str(HERE / "examples" / "ivr_call_flow.py"), str(HERE / "examples" / "sla_wall.py"), str(HERE / "tests")],
            id="examples-and-tests",
        ),
    ],
)
def test_mypy_strict(targets: list[str], tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is installed by test.sh (requirements/test.txt)")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy"), *targets],
        capture_output=True,
        text=True,
        cwd=HERE / "tests",
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
