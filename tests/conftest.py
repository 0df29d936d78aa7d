"""Shared pytest set-up: the collection link tree must exist (pyproject.toml's ``pythonpath`` puts it on
``sys.path``, so ``ansible_collections.sotsync.nautobot`` imports from the checkout)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = ROOT / ".build" / "collections" / "ansible_collections" / "sotsync" / "nautobot"

if not COLLECTION.exists():
    raise RuntimeError("run scripts/setup first: the collection link tree is missing")
