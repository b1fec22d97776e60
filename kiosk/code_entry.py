"""Digits as the resident types them (keypad) or a scanner types them: plain Python, no Kivy.

One class for the three keypads: a booking code (8 digits, antrean.booking:
the last one a Damm check digit), a walk-in's NIK (16 digits, `nik_per_day`)
and a booked NIK's last four (`confirm_nik_last4`). The code stays after a
refusal, so one wrong digit is fixed with one "hapus" and one digit; a NIK is
masked on screen except the last four digits typed, and the kiosk drops it
as soon as its command is answered (kiosk/app.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from antrean.booking import CODE_DIGITS

GROUP = 4  # shown as "1234 5678": groups of four are read back and compared at a glance
PLACEHOLDER = "_"
MASK = "\u2022"  # a bullet for each hidden NIK digit
SHOWN_TAIL = 4  # a masked entry shows only the last four digits typed (what the KTP ends with)


@dataclass(slots=True)
class CodeEntry:
    """The digits typed so far; at most `length`; `masked` hides all but the last four."""

    length: int = CODE_DIGITS
    masked: bool = False
    digits: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return "".join(self.digits)

    @property
    def complete(self) -> bool:
        return len(self.digits) == self.length

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
        """ "1234 5___" (masked: "•••• ••34 5___"): digits in groups, the places still to fill."""
        hidden = max(0, len(self.digits) - SHOWN_TAIL) if self.masked else 0
        padded = [MASK] * hidden + self.digits[hidden:]
        padded += [PLACEHOLDER] * (self.length - len(self.digits))
        groups = ["".join(padded[i : i + GROUP]) for i in range(0, self.length, GROUP)]
        return " ".join(groups)
