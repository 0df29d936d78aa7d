"""The string constants of Python files, read with ``ast`` in a child Python.

CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per thread
(python/cpython#106905): an ``ast.parse`` in a long-lived pytest process (threads of earlier tests still
running) can fail with "AST constructor recursion depth mismatch", which says nothing about the file. CI
met it twice. A fresh interpreter per call has no such neighbours.
"""

import json
import subprocess
import sys

READ = """
import ast, json, sys
found = []
for path in sys.argv[1:]:
    tree = ast.parse(open(path, encoding="utf-8").read())
    scopes = [(None, tree.body)]
    scopes += [(node.name, node.body) for node in tree.body if isinstance(node, ast.ClassDef)]
    for scope, body in scopes:
        for node in body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.append([path, scope, target.id, node.value.value])
json.dump(found, sys.stdout)
"""


def python_strings(paths):
    """``{path: [(class or None, name, value), ...]}``: every ``NAME = "string"`` at module level or in
    a top-level class body of each file, in source order."""
    paths = [str(path) for path in paths]
    done = subprocess.run([sys.executable, "-c", READ, *paths], capture_output=True, text=True, check=True, timeout=120)
    found = {path: [] for path in paths}
    for path, scope, name, value in json.loads(done.stdout):
        found[path].append((scope, name, value))
    return found


def module_strings(path):
    """``{name: value}`` of the module-level string constants of one file."""
    return {name: value for scope, name, value in python_strings([path])[str(path)] if scope is None}
