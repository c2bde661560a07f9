"""One call that makes a notebook's outputs reproducible under nbval.

``setup()`` enables float64 in JAX (the checks are stated in float64, and x64 changes the
random draws, so it must be set before any key is used), fixes NumPy's print precision so
printed values are rounded to stable digits, and sets a plain matplotlib style with PNG
figures (nbval does not compare PNGs; SVGs carry random ids).
"""

from __future__ import annotations


def setup(precision: int = 6) -> None:
    """Prepare a notebook for reproducible float64 checks and figures."""
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    np.set_printoptions(precision=precision, suppress=True, floatmode="maxprec")
    try:
        import matplotlib as mpl

        mpl.rcParams.update(
            {
                "figure.figsize": (6.4, 4.0),
                "figure.dpi": 100,
                "savefig.dpi": 100,
                "axes.grid": True,
                "grid.alpha": 0.3,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "svg.hashsalt": "ntkbook",
            }
        )
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    except ImportError:  # matplotlib is only needed for figures
        pass


# What JupyterLab 4 writes for the kernel the chapters use (ipykernel's kernelspec). A notebook stored with
# anything else is marked modified as soon as JupyterLab opens it, and its autosave rewrites the file.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata that changes on every run and carries no content (nbclient's and extensions' timestamps).
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")


def normalize_metadata(nb):
    """Set the kernelspec as JupyterLab writes it and drop volatile cell metadata, in place; returns ``nb``."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


def coalesce_streams(nb):
    """Join consecutive stream outputs of one name (stdout, stderr) in every cell, in place; returns ``nb``.
    How the kernel splits its output into messages depends on timing, not on the cell: joined, a
    re-execution with the same output stores the same text."""
    for cell in nb.cells:
        outs = []
        for o in cell.get("outputs", []):
            if (
                outs
                and o.get("output_type") == "stream"
                and outs[-1].get("output_type") == "stream"
                and (outs[-1].get("name") == o.get("name"))
            ):
                outs[-1]["text"] = "".join(outs[-1]["text"]) + "".join(o["text"])
            else:
                outs.append(o)
        if "outputs" in cell:
            cell["outputs"] = outs
    return nb


def execute_in_place(paths: list[str], timeout: int = 600) -> None:
    """Re-execute notebooks in place with a fresh kernel, in the notebook's folder, on the CPU.

    This is how the stored outputs are produced: execution counts run 1, 2, 3, ... and every
    output is what nbval will compare against. Nothing volatile is written (no execution
    timestamps; the kernelspec as JupyterLab writes it), so a re-execution whose outputs do not
    change leaves the file byte for byte as it was.
    """
    import os
    import pathlib

    import nbformat
    from nbclient import NotebookClient

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    for p in paths:
        path = pathlib.Path(p)
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        nbformat.write(coalesce_streams(normalize_metadata(nb)), path)
        print(f"executed {path}")


if __name__ == "__main__":
    import sys

    execute_in_place(sys.argv[1:])
