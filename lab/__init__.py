"""The lab (``scripts/lab``) and its helpers, a package of the checkout (not part of the built
collection): ``from lab import hookrun, seed, fleet``. Scripts run as modules from the checkout's root,
``python -m lab.labctl up``; pyproject.toml's pytest ``pythonpath`` puts the root on ``sys.path``."""
