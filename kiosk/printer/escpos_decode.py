"""Reads ESC/POS bytes back into what a printer would do, and draws it as a PNG.

The simulator printer uses this for its previews, and the tests use it to
check what was sent: the preview is made from the bytes the kiosk wrote, not
from the ticket data, so it proves the bytes. Only the commands a ticket uses
are understood (text, bold, sizes, alignment, code page, feed, cut, the QR
code of GS ( k); anything else is kept in `unknown` so a test can see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
# Dots across the printable width at 203 dpi (8 dots per mm), and font A's cell.
PAPER_DOTS = {58: 384, 80: 576}
CELL_W, CELL_H = 12, 24
LINE_GAP = 6  # ESC 2: the default line spacing is 30 dots, the font 24 high
_CODEPAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858"}
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
)
# Argument bytes that the ESC x / GS x commands we only skip take.
_ESC_ARGS = {
    ord(c): n
    for c, n in {
        "-": 1,
        "M": 1,
        "G": 1,
        "3": 1,
        "2": 0,
        "{": 1,
        "c": 2,
        "p": 3,
        "J": 1,
        "=": 1,
        "V": 1,
        " ": 1,
    }.items()
}
_GS_ARGS = {ord(c): n for c, n in {"H": 1, "h": 1, "w": 1, "f": 1, "L": 2, "W": 2}.items()}


@dataclass(slots=True)
class Run:
    """Text printed with one style."""

    text: str
    bold: bool
    width: int  # character width multiplier, 1-8
    height: int  # character height multiplier, 1-8
    invert: bool = False  # white on black (GS B)


@dataclass(slots=True)
class TextLine:
    runs: list[Run]
    align: str  # left, center, right

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    @property
    def height(self) -> int:
        return max((r.height for r in self.runs), default=1)


@dataclass(slots=True)
class QrCode:
    data: str
    module: int  # dots per module (GS ( k function 167)
    error_level: str  # L, M, Q, H
    align: str


@dataclass(slots=True)
class Feed:
    lines: int


@dataclass(slots=True)
class Cut:
    partial: bool


Element = TextLine | QrCode | Feed | Cut


@dataclass(slots=True)
class Decoded:
    """What a printer would print from the bytes, in order."""

    elements: list[Element] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [e.text for e in self.elements if isinstance(e, TextLine)]

    @property
    def qr_codes(self) -> list[str]:
        return [e.data for e in self.elements if isinstance(e, QrCode)]

    @property
    def cut(self) -> bool:
        return any(isinstance(e, Cut) for e in self.elements)


class _Reader:
    def __init__(self) -> None:
        self.out = Decoded()
        self.runs: list[Run] = []
        self.text = bytearray()
        self.reset()
        self.qr_data = b""
        self.qr_module = 3
        self.qr_level = "L"

    def reset(self) -> None:
        self.bold = False
        self.width = self.height = 1
        self.align = "left"
        self.codepage = "cp437"
        self.invert = False

    def flush_text(self) -> None:
        if self.text:
            chars = self.text.decode(self.codepage, errors="replace")
            self.runs.append(Run(chars, self.bold, self.width, self.height, self.invert))
            self.text.clear()

    def style(self) -> None:
        self.flush_text()

    def end_line(self) -> None:
        self.flush_text()
        runs = self.runs or [Run("", self.bold, self.width, self.height)]
        self.out.elements.append(TextLine(runs, self.align))
        self.runs = []


def decode(data: bytes) -> Decoded:
    """The printer's view of `data`."""
    r = _Reader()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == LF:
            r.end_line()
            i += 1
        elif b == ESC and i + 1 < n:
            i = _esc(r, data, i)
        elif b == GS and i + 1 < n:
            i = _gs(r, data, i)
        elif b == DLE and i + 2 < n and data[i + 1] == 0x04:
            i += 3  # DLE EOT n: a status query, nothing printed
        elif b < 0x20:
            r.out.unknown.append(bytes([b]))
            i += 1
        else:
            r.text.append(b)
            i += 1
    if r.text or r.runs:
        r.end_line()  # text left in the buffer: a real printer prints it at the cut
    return r.out


def _esc(r: _Reader, data: bytes, i: int) -> int:
    cmd = data[i + 1]
    arg = data[i + 2] if i + 2 < len(data) else 0
    if cmd == ord("@"):
        r.style()
        r.reset()
        return i + 2
    if cmd == ord("!"):
        r.style()
        r.bold = bool(arg & 0x08)
        r.height = 2 if arg & 0x10 else 1
        r.width = 2 if arg & 0x20 else 1
    elif cmd == ord("E"):
        r.style()
        r.bold = bool(arg & 1)
    elif cmd == ord("a"):
        r.style()
        r.align = ("left", "center", "right")[(arg - 48 if arg >= 48 else arg) % 3]
    elif cmd == ord("t"):
        r.style()
        r.codepage = _CODEPAGES.get(arg, "cp437")
    elif cmd == ord("d"):
        r.flush_text()
        if r.runs:
            r.end_line()
            arg = max(arg - 1, 0)
        r.out.elements.append(Feed(arg))
    elif cmd in _ESC_ARGS:
        return i + 2 + _ESC_ARGS[cmd]
    else:
        r.out.unknown.append(data[i : i + 2])
        return i + 2
    return i + 3


def _gs(r: _Reader, data: bytes, i: int) -> int:
    cmd = data[i + 1]
    arg = data[i + 2] if i + 2 < len(data) else 0
    if cmd == ord("!"):
        r.style()
        r.width = (arg >> 4) + 1
        r.height = (arg & 0x0F) + 1
        return i + 3
    if cmd == ord("B"):
        r.style()
        r.invert = bool(arg & 1)
        return i + 3
    if cmd == ord("V"):
        if r.text or r.runs:
            r.end_line()
        r.out.elements.append(Cut(partial=arg in (1, 49, 66)))
        return i + (4 if arg in (65, 66) else 3)
    if cmd == ord("(") and i + 4 < len(data) and data[i + 2] == ord("k"):
        size = data[i + 3] | data[i + 4] << 8
        body = data[i + 5 : i + 5 + size]
        _two_d(r, body)
        return i + 5 + size
    if cmd in _GS_ARGS:
        return i + 2 + _GS_ARGS[cmd]
    r.out.unknown.append(data[i : i + 2])
    return i + 2


def _two_d(r: _Reader, body: bytes) -> None:
    """GS ( k: cn 49 is QR; fn C = module size, E = error level, P = store, Q = print."""
    if len(body) < 2 or body[0] != 49:
        r.out.unknown.append(b"\x1d(k" + body)
        return
    fn, rest = body[1], body[2:]
    if fn == ord("C") and rest:
        r.qr_module = rest[0]
    elif fn == ord("E") and rest:
        r.qr_level = "LMQH"[(rest[0] - 48) % 4]
    elif fn == ord("P"):
        r.qr_data = rest[1:]  # after m = '0'
    elif fn == ord("Q"):
        if r.text or r.runs:
            r.end_line()
        text = r.qr_data.decode("utf-8", errors="replace")
        r.out.elements.append(QrCode(text, r.qr_module, r.qr_level, r.align))


# ---- drawing ------------------------------------------------------------------


def render(data: bytes, paper_mm: int = 80) -> Image.Image:
    """Draws the bytes as the paper would come out (black on white, 203 dpi)."""
    decoded = decode(data)
    width = PAPER_DOTS.get(paper_mm, PAPER_DOTS[80])
    margin = 16
    pieces: list[Image.Image] = []
    for e in decoded.elements:
        if isinstance(e, TextLine):
            pieces.append(_line_image(e, width))
        elif isinstance(e, QrCode):
            pieces.append(_qr_image(e, width))
        elif isinstance(e, Feed):
            pieces.append(Image.new("L", (width, e.lines * (CELL_H + LINE_GAP)), 255))
        elif isinstance(e, Cut):
            pieces.append(_cut_image(width))
    height = sum(p.height for p in pieces) + 2 * margin
    page = Image.new("L", (width + 2 * margin, max(height, 2 * margin)), 255)
    y = margin
    for p in pieces:
        page.paste(p, (margin, y))
        y += p.height
    return page


def save_preview(data: bytes, path: Path, paper_mm: int = 80) -> Path:
    """Writes the preview PNG (grey levels only: small files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render(data, paper_mm).save(path, optimize=True)
    return path


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _FONT_FILES[1 if bold else 0]
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return ImageFont.load_default()


def _line_image(line: TextLine, width: int) -> Image.Image:
    h = line.height * CELL_H + LINE_GAP
    img = Image.new("L", (width, h), 255)
    parts: list[Image.Image] = []
    for run in line.runs:
        if not run.text:
            continue
        # Draw at the cell height, then stretch to the cell width: how a
        # printer's width and height multipliers scale font A's 12x24 cell.
        cell_w, cell_h = CELL_W * run.width, CELL_H * run.height
        font = _font(run.bold, int(cell_h * 0.9))
        advance = max(int(font.getlength("M")), 1)
        paper, ink = (0, 255) if run.invert else (255, 0)
        glyphs = Image.new("L", (len(run.text) * advance, cell_h), paper)
        draw = ImageDraw.Draw(glyphs)
        for k, ch in enumerate(run.text):
            draw.text((k * advance, 0), ch, font=font, fill=ink)
        parts.append(glyphs.resize((len(run.text) * cell_w, cell_h)))
    used = min(sum(p.width for p in parts), width)
    x = {"left": 0, "center": (width - used) // 2, "right": width - used}[line.align]
    for p in parts:
        img.paste(p, (x, h - LINE_GAP - p.height))
        x += p.width
    return img


def _qr_image(code: QrCode, width: int) -> Image.Image:
    levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    qr = qrcode.QRCode(
        box_size=max(code.module, 1), border=0, error_correction=levels[code.error_level]
    )
    qr.add_data(code.data)
    qr.make(fit=True)
    matrix = qr.make_image().get_image().convert("L")
    img = Image.new("L", (width, matrix.height + LINE_GAP * 2), 255)
    x = {"left": 0, "center": (width - matrix.width) // 2, "right": width - matrix.width}
    img.paste(matrix, (max(x[code.align], 0), LINE_GAP))
    return img


def _cut_image(width: int) -> Image.Image:
    img = Image.new("L", (width, 20), 255)
    draw = ImageDraw.Draw(img)
    for x in range(0, width, 12):
        draw.line([(x, 10), (x + 6, 10)], fill=128, width=2)
    return img
