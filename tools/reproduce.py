"""Execute every notebook twice and check that the two runs print exactly the same thing.

Usage::

    python tools/reproduce.py book/*.ipynb [--timeout SECONDS] [--keep DIR]

Each notebook is read, executed twice with a fresh kernel (nbclient) in the notebook's own folder
(so relative paths resolve as they do for ``make execute``), on the CPU (``JAX_PLATFORMS=cpu``,
``PYTHONHASHSEED=0``), and each run is written to a temporary copy: the notebook in the
repository is never modified. The two runs are then compared code cell by code cell on what a
reader sees and nbval checks as text:

* ``stream`` outputs (stdout and stderr; the chunks of one stream in a cell are joined first, and
  ``\\r``/``\\b`` are resolved, as nbval does, since how a stream is split into messages depends
  on timing);
* the ``text/plain`` and ``text/html`` data of ``execute_result`` and ``display_data`` outputs;
* ``error`` outputs (``ename: evalue``).

Images, other MIME types, metadata and execution counts are not compared. Every difference is
reported with the notebook, the code cell number (1-based, counting code cells only), the output
and a unified diff. The exit status is 0 when every notebook reproduced, 1 when any differed or
failed to execute, 2 on bad arguments.

This is the check behind ``make reproduce``; ``tests/test_reproducibility.py`` tests the
comparison logic on small synthetic notebooks.
"""

from __future__ import annotations

import argparse
import difflib
import os
import pathlib
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

COMPARED_MIME = ("text/plain", "text/html")

# As nbval: a run of non-newline characters followed by a backspace cancels, and a carriage
# return not followed by a newline erases the line so far.
_BACKSPACE = re.compile("[^\n]\x08")
_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


@dataclass(frozen=True)
class Difference:
    """One place where two executions of a notebook disagree.

    ``cell`` is the 1-based number of the code cell (code cells only; ``None`` when the notebooks
    do not even have the same number of code cells), ``what`` names the output compared
    (``"stream stdout"``, ``"output 2 text/plain"``, ...), ``first``/``second`` are the two texts
    (``None`` where one side has no such output).
    """

    notebook: str
    cell: int | None
    what: str
    first: str | None
    second: str | None

    def describe(self, context_lines: int = 2, max_lines: int = 40) -> str:
        where = f"{self.notebook}: code cell {self.cell}" if self.cell is not None else self.notebook
        head = f"{where}: {self.what} differs"
        if self.first is None or self.second is None:
            side = "first" if self.first is None else "second"
            present = self.second if self.first is None else self.first
            return f"{head} (missing in the {side} run; the other has {present!r:.200})"
        diff = list(
            difflib.unified_diff(
                self.first.splitlines(), self.second.splitlines(), "run 1", "run 2", n=context_lines, lineterm=""
            )
        )
        if len(diff) > max_lines:
            diff = diff[:max_lines] + [f"... ({len(diff) - max_lines} more diff lines)"]
        return head + ":\n" + "\n".join("    " + line for line in diff)


# --------------------------------------------------------------------------- normalising outputs


def _text(value) -> str:
    """nbformat stores multi-line text as a string or a list of lines."""
    if isinstance(value, (list, tuple)):
        return "".join(value)
    return "" if value is None else str(value)


def _resolve_control_characters(text: str) -> str:
    old = None
    while old != text:
        old = text
        text = _BACKSPACE.sub("", text)
    return _CARRIAGE_RETURN.sub("", text)


def comparable_outputs(cell) -> dict[str, str]:
    """The outputs of one code cell that are compared, as ``{label: text}``.

    Streams are keyed ``"stream <name>"`` (all chunks joined, control characters resolved);
    rich outputs ``"output <k> <mime>"`` with ``k`` counting the non-stream outputs from 1;
    errors ``"output <k> error"``.
    """
    streams: dict[str, str] = {}
    out: dict[str, str] = {}
    k = 0
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            name = output.get("name", "stdout")
            streams[name] = streams.get(name, "") + _text(output.get("text"))
            continue
        k += 1
        if kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime in COMPARED_MIME:
                if mime in data:
                    out[f"output {k} {mime}"] = _text(data[mime])
        elif kind == "error":
            out[f"output {k} error"] = f"{output.get('ename', '')}: {output.get('evalue', '')}"
    for name, text in streams.items():
        out[f"stream {name}"] = _resolve_control_characters(text)
    return out


def code_cells(nb) -> list:
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def compare_notebooks(first, second, name: str = "notebook") -> list[Difference]:
    """Every difference between the compared outputs of two executions of one notebook."""
    a, b = code_cells(first), code_cells(second)
    if len(a) != len(b):
        return [Difference(name, None, "number of code cells", str(len(a)), str(len(b)))]
    diffs = []
    for i, (ca, cb) in enumerate(zip(a, b), start=1):
        oa, ob = comparable_outputs(ca), comparable_outputs(cb)
        for label in sorted(set(oa) | set(ob)):
            ta, tb = oa.get(label), ob.get(label)
            if ta != tb:
                diffs.append(Difference(name, i, label, ta, tb))
    return diffs


# --------------------------------------------------------------------------- executing


def execute_copy(path: pathlib.Path, out_path: pathlib.Path, *, timeout: int = 600):
    """Execute the notebook at ``path`` with a fresh kernel, in its own folder, and write the executed
    notebook to ``out_path``. Returns the executed notebook. A cell that raises stops the run
    (``nbclient.exceptions.CellExecutionError``)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.resolve().parent)}}
    )
    client.execute()
    nbformat.write(nb, out_path)
    return nb


Executor = Callable[[pathlib.Path, pathlib.Path], object]


def reproduce(
    paths: Sequence[pathlib.Path], workdir: pathlib.Path, *, execute: Executor, log: Callable[[str], None] = print
) -> tuple[list[Difference], list[str]]:
    """Execute each notebook twice via ``execute(path, out_path)`` and compare the two runs.

    Returns ``(differences, failures)``: ``failures`` holds one line per notebook whose execution
    raised (it is then not compared).
    """
    diffs: list[Difference] = []
    failures: list[str] = []
    for path in paths:
        runs = []
        for run in (1, 2):
            out_path = workdir / f"{path.stem}.run{run}.ipynb"
            try:
                runs.append(execute(path, out_path))
            except Exception as exc:  # noqa: BLE001 -- report any failure of the run and go on
                first_line = (str(exc).strip().splitlines() or [""])[0]
                failures.append(f"{path}: run {run} failed: {type(exc).__name__}: {first_line[:300]}")
                break
        if len(runs) == 2:
            found = compare_notebooks(runs[0], runs[1], name=str(path))
            diffs.extend(found)
            log(f"{path}: {'reproduced' if not found else f'{len(found)} difference(s)'}")
        else:
            log(failures[-1])
    return diffs, failures


def _set_environment() -> None:
    # The stored outputs are CPU outputs; the kernels inherit this environment.
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["PYTHONHASHSEED"] = "0"


def main(argv: Iterable[str] | None = None, *, execute: Executor | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute notebooks twice and compare their text outputs.")
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path, help="notebooks (.ipynb) to check")
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    parser.add_argument(
        "--keep",
        type=pathlib.Path,
        default=None,
        help="write the executed copies to this folder and keep them (default: a temporary folder)",
    )
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    missing = [p for p in args.notebooks if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        print(f"not a notebook file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print(f"--timeout must be > 0, got {args.timeout}", file=sys.stderr)
        return 2
    if execute is None:
        _set_environment()
        timeout = args.timeout
        execute = lambda p, out: execute_copy(p, out, timeout=timeout)  # noqa: E731
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        workdir, cleanup = args.keep, False
    else:
        workdir, cleanup = pathlib.Path(tempfile.mkdtemp(prefix="ntkbook-reproduce-")), True
    try:
        diffs, failures = reproduce(args.notebooks, workdir, execute=execute)
    finally:
        if cleanup:
            shutil.rmtree(workdir, ignore_errors=True)
    for d in diffs:
        print(d.describe())
    for f in failures:
        print(f)
    n = len(args.notebooks)
    bad = len({d.notebook for d in diffs}) + len(failures)
    print(f"{n - bad} of {n} notebook(s) reproduced; {len(diffs)} difference(s), {len(failures)} failed execution(s)")
    return 1 if diffs or failures else 0


if __name__ == "__main__":
    sys.exit(main())
