"""Scaffolding for `hypersweep new-project` / `new-problem`: the template files and the functions writing them.

A problem named like a bundled example (``polynome2``) is copied from `hypersweep.examples`, the one home of
the tutorial's code; any other name gets the generic skeleton under ``templates/problem``.
"""

from __future__ import annotations

import keyword
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["EXAMPLES", "check_name", "new_problem", "new_project"]

#: problems that `new_problem` copies from the bundled examples instead of the generic skeleton
EXAMPLES = ("polynome2",)
_SUFFIX = ".tpl"


def check_name(name: str, what: str) -> str:
    """``name`` if it can be a Python package name, else ValueError saying why.

    >>> check_name("dh_project", "project")
    'dh_project'
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"{what} name must be a valid Python identifier (letters, digits, underscores, not starting with "
            f"a digit), got {name!r}; e.g. {name.replace('-', '_').replace(' ', '_') or 'my_' + what!r}"
        )
    return name


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _write_tree(source: Traversable, dest: Path, values: dict[str, str], rename: dict[str, str]) -> list[Path]:
    """Copy the ``*.tpl`` files under ``source`` to ``dest``, rendered; directories renamed by ``rename``."""
    written = []
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.is_dir():
            written += _write_tree(item, dest / rename.get(item.name, item.name), values, rename)
        elif item.name.endswith(_SUFFIX):
            target = dest / item.name[: -len(_SUFFIX)]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_render(item.read_text(encoding="utf-8"), values), encoding="utf-8")
            written.append(target)
    return written


def new_project(name: str, parent: str | Path = ".") -> list[Path]:
    """Create ``parent/name/`` holding an installable project whose package is ``parent/name/name/``.

    Refuses (FileExistsError) when ``parent/name`` exists. Returns the files written.

    >>> import tempfile
    >>> files = new_project("dh_project", tempfile.mkdtemp())
    >>> sorted(p.name for p in files)
    ['README.md', '__init__.py', 'pyproject.toml']
    """
    check_name(name, "project")
    root = Path(parent) / name
    if root.exists():
        raise FileExistsError(f"{root} already exists; choose another project name or remove it first")
    source = resources.files(__name__) / "project"
    return _write_tree(source, root, {"project": name}, {"package": name})


def new_problem(name: str, package_dir: str | Path = ".") -> tuple[str, list[Path]]:
    """Create the problem package ``package_dir/name/`` (``load_data``, ``model_run``, ``problem``).

    Its dotted module path starts with the package ``package_dir`` is (when it holds an ``__init__.py``).
    Returns (module path, files written); FileExistsError when ``package_dir/name`` exists.

    >>> import tempfile
    >>> module, files = new_problem("polynome2", tempfile.mkdtemp())
    >>> module, sorted(p.name for p in files)
    ('polynome2', ['__init__.py', 'load_data.py', 'model_run.py', 'problem.py'])
    """
    check_name(name, "problem")
    package_dir = Path(package_dir).resolve()
    dest = package_dir / name
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; choose another problem name or remove it first")
    module = f"{package_dir.name}.{name}" if (package_dir / "__init__.py").is_file() else name
    if name in EXAMPLES:
        return module, _copy_example(name, dest, module)
    source = resources.files(__name__) / "problem"
    return module, _write_tree(source, dest, {"name": name, "module": module}, {})


def _copy_example(name: str, dest: Path, module: str) -> list[Path]:
    """The bundled example's source files, with its dotted path replaced by ``module``."""
    source = resources.files("hypersweep.examples") / name
    dest.mkdir(parents=True)
    written = []
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.is_file() and item.name.endswith(".py"):
            text = item.read_text(encoding="utf-8").replace(f"hypersweep.examples.{name}", module)
            (dest / item.name).write_text(text, encoding="utf-8")
            written.append(dest / item.name)
    return written
