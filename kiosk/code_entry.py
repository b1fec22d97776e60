"""The booking code as the resident types it (keypad) or a scanner types it: plain Python, no Kivy.

A code is 8 digits (antrean.booking: the last one a Damm check digit). The
field keeps what was typed after a refusal, so one wrong digit is fixed with
one "hapus" and one digit, not eight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from antrean.booking import CODE_DIGITS

GROUP = 4  # shown as "1234 5678": two groups are read back and compared at a glance
PLACEHOLDER = "_"


@dataclass(slots=True)
class CodeEntry:
    """The digits typed so far; at most CODE_DIGITS."""

    digits: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return "".join(self.digits)

    @property
    def complete(self) -> bool:
        return len(self.digits) == CODE_DIGITS

    def press(self, key: str) -> bool:
        """One digit from the keypad or a scanner; False (nothing changes) when it does not fit."""
        if len(key) != 1 or not key.isascii() or not key.isdigit() or self.complete:
            return False
        self.digits.append(key)
        return True

    def delete(self) -> None:
        """ "Hapus": the last digit goes."""
        if self.digits:
            self.digits.pop()

    def clear(self) -> None:
        self.digits.clear()

    def shown(self) -> str:
        """ "1234 5___": the typed digits in groups, the rest as places still to fill."""
        padded = self.digits + [PLACEHOLDER] * (CODE_DIGITS - len(self.digits))
        groups = ["".join(padded[i : i + GROUP]) for i in range(0, CODE_DIGITS, GROUP)]
        return " ".join(groups)
