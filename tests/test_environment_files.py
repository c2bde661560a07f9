"""environment.yml (conda / Binder) lists the same dependencies as pyproject.toml."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted |= set(extra)
    env = (ROOT / "environment.yml").read_text()
    listed = {m.strip() for m in re.findall(r"^\s+- ([A-Za-z][^#\n]*?)\s*$", env, flags=re.M)}
    listed -= {"pip", "pip:", "conda-forge"}
    listed = {x for x in listed if not x.startswith(("python=", "-e"))}
    assert listed == wanted, (
        f"only in environment.yml: {sorted(listed - wanted)}; only in pyproject.toml: {sorted(wanted - listed)}"
    )
