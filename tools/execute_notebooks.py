"""Re-execute chapter notebooks in place and store their outputs deterministically.

Usage::

    python tools/execute_notebooks.py                 # every notebook in _toc.yml
    python tools/execute_notebooks.py book/01_convolution.ipynb

Each notebook runs top to bottom in a fresh kernel of the current environment, from its
own directory. Volatile metadata (per-cell timestamps, the exact Python version) is
dropped, so re-running an unchanged notebook leaves the file byte-for-byte the same and a
diff shows only real changes. A cell that raises stops the run unless it is tagged
``raises-exception``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from nbclient import NotebookClient
from notebooks import ROOT, read, toc_notebooks, write

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def merge_streams(outputs: list[Any]) -> list[Any]:
    """Join consecutive outputs of the same stream into one.

    The kernel flushes ``print`` output whenever its buffer timer fires, so the same cell
    can store one stream output or several from run to run; merged, they are always one.
    """
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.output_type == previous.output_type == "stream"
            and output.name == previous.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def normalise(notebook: Any) -> None:
    """Keep only the kernel's name as metadata, merge split streams, number cells from 1."""
    notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
        if cell.cell_type == "code" and (cell.get("execution_count") is not None or cell.outputs):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count


def execute(path: Path, timeout: int = 1800) -> float:
    """Run ``path`` in place; return the seconds it took."""
    notebook = read(path)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    normalise(notebook)
    write(notebook, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks to run (default: all in _toc.yml)"
    )
    args = parser.parse_args(argv)
    paths = [path.resolve() for path in args.paths] or toc_notebooks()
    for path in paths:
        seconds = execute(path)
        print(f"executed {path.relative_to(ROOT)} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
