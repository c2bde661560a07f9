"""The README's examples run as written, and what it and `make help` name exists.

* Every ```python block of README.md, in order, in one fresh Python process (as a reader pastes them into one
  session), with JAX's float64 left unset in the environment (the example itself must enable it).
* Every `make <target>` the README names is a target of the Makefile.
* `make help` lists every target of the Makefile's .PHONY.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def phony_targets(makefile: str) -> list[str]:
    line = re.search(r"^\.PHONY:(.*)$", makefile, flags=re.M).group(1)
    return line.split()


def test_readme_has_python_examples():
    assert len(python_blocks(README)) >= 2


@pytest.mark.slow
def test_readme_python_examples_run_as_written(tmp_path):
    script = "\n\n".join(python_blocks(README))
    (tmp_path / "readme_examples.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_ENABLE_X64")}
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, "readme_examples.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"the README's examples fail:\n{proc.stderr[-3000:]}"
    # The outputs the README's comments promise.
    assert "(8, 8) (8, 8) float64" in proc.stdout, proc.stdout
    assert "(5, 3) True" in proc.stdout, proc.stdout


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README)) | set(re.findall(r"^make ([a-z][a-z-]*)", README, re.M))
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, flags=re.M))
    assert named and not named - targets, f"the README names make targets that do not exist: {sorted(named - targets)}"


def test_make_help_lists_every_target():
    proc = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed = set(re.findall(r"^make ([a-z][a-z-]*)", proc.stdout, flags=re.M))
    phony = set(phony_targets(MAKEFILE)) - {"help"}
    assert not phony - listed, f"make help leaves out: {sorted(phony - listed)}"
    assert not listed - phony, f"make help lists what is not a .PHONY target: {sorted(listed - phony)}"
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, flags=re.M))
    assert phony <= targets, f".PHONY names targets that are not defined: {sorted(phony - targets)}"
