"""Make the shared webhook body builders (``tests/eda/nautobot_webhooks.py``) importable here."""

import sys
from pathlib import Path

EDA_TESTS = Path(__file__).resolve().parents[3] / "eda"
if str(EDA_TESTS) not in sys.path:
    sys.path.insert(0, str(EDA_TESTS))
