"""List the mathematics written as plain text (ntkbook.claims.mathtext) in the claim titles, the stored
check texts and the markdown prose of the chapters: `python tools/untypeset.py [book/NN-name.ipynb ...]`.
Exit status 1 when anything is found."""

from __future__ import annotations

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ntkbook.claims.ledger import untypeset_texts  # noqa: E402
from ntkbook.claims.mathtext import untypeset_math  # noqa: E402

# Markdown that is not prose: code spans and fences, MyST roles and directives, labels, HTML comments, links' targets.
_NOT_PROSE = re.compile(
    r"```.*?```|:::.*?:::|`[^`\n]*`|\{[a-z:-]+\}`[^`]*`|<!--.*?-->|^\(.*?\)=$|\]\([^)]*\)|^\s*:[a-z-]+:.*$",
    re.S | re.M,
)


def notebook_findings(path: pathlib.Path) -> list[str]:
    nb = json.loads(path.read_text())
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown" or "".join(cell["source"]).startswith("---"):
            continue
        text = _NOT_PROSE.sub(" ", "".join(cell["source"]))
        out += [f"{path.name} cell {i}: {m}" for m in untypeset_math(text)]
    return out


def main(argv: list[str]) -> int:
    import ntkbook.chapters  # noqa: F401  (registers the claims)

    paths = [pathlib.Path(a) for a in argv] or sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb"))
    found = untypeset_texts({p.stem for p in paths})
    for p in paths:
        found += notebook_findings(p)
    print("\n".join(found))
    print(f"{len(found)} fragments of untypeset math", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
