"""Lab facts that are safe to print: pytest shows fixture values when a test fails, and no token or
password may reach a test log."""

from __future__ import annotations

SECRET_WORDS = ("token", "password", "secret")


class Masked(dict):
    """A dict whose repr hides the values of keys naming a secret."""

    def __repr__(self) -> str:
        shown = {k: "********" if any(word in k.lower() for word in SECRET_WORDS) else v for k, v in self.items()}
        return f"{type(self).__name__}({shown!r})"

    __str__ = __repr__
