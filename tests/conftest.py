"""Shared pytest set-up: make ``ansible_collections.sotsync.nautobot`` importable from the checkout."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".build" / "collections"

if not (COLLECTIONS / "ansible_collections" / "sotsync" / "nautobot").exists():
    raise RuntimeError("run scripts/setup first: the collection link tree is missing")
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
