"""The environment files list what pyproject.toml says, with the same bounds.

* ``environment.yml`` (conda, for working on the book): every dependency of every extra.
* ``binder/environment.yml`` (Binder, for readers): the library, the ``notebooks`` extra and the ``lab`` extra --
  nothing of the build or the tests -- and it states the peak memory of the heaviest chapter.
* The ``notebooks`` extra (Colab's install cell, Binder) is part of the ``book`` extra, with the same bounds.
"""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def listed(path: pathlib.Path) -> set[str]:
    env = path.read_text()
    found = {m.strip() for m in re.findall(r"^\s+- ([A-Za-z][^#\n]*?)\s*$", env, flags=re.M)}
    found -= {"pip", "pip:", "conda-forge"}
    return {x for x in found if not x.startswith(("python=", "-e"))}


def test_environment_yml_matches_pyproject():
    wanted = set(PROJECT["dependencies"])
    for extra in EXTRAS.values():
        wanted |= set(extra)
    have = listed(ROOT / "environment.yml")
    assert have == wanted, (
        f"only in environment.yml: {sorted(have - wanted)}; only in pyproject.toml: {sorted(wanted - have)}"
    )


def test_binder_environment_is_the_lean_readers_one():
    wanted = set(PROJECT["dependencies"]) | set(EXTRAS["notebooks"]) | set(EXTRAS["lab"])
    have = listed(ROOT / "binder" / "environment.yml")
    assert have == wanted, (
        f"only in binder/environment.yml: {sorted(have - wanted)}; missing there: {sorted(wanted - have)}"
    )
    tools = {re.split(r"[<>=\[ ]", r)[0] for r in EXTRAS["test"]} | {"jupyter-book"}
    assert not {re.split(r"[<>=\[ ]", r)[0] for r in have} & tools, "Binder installs build or test tools"
    text = (ROOT / "binder" / "environment.yml").read_text()
    assert re.search(r"peaks at \d+(\.\d+)? GB", text), "binder/environment.yml must state the peak memory"
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


def test_notebooks_extra_is_part_of_the_book_extra():
    assert set(EXTRAS["notebooks"]) <= set(EXTRAS["book"]), set(EXTRAS["notebooks"]) - set(EXTRAS["book"])


def test_install_cell_names_an_extra_that_exists():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from notebook_preamble import install_source, repository_url

    extra = re.search(r"ntkbook\[(\w+)\] @ git\+", install_source(repository_url())).group(1)
    assert extra in EXTRAS
