"""The HTML audit report as an auditor sees it: rendered by headless Chromium, screenshot
taken and checked (size, the report's own colours, failures listed first)."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import require_tool
from e2e.helpers import spbe_kit

pytestmark = pytest.mark.tools
ROOT = Path(__file__).resolve().parents[2]
NAVY = (0x1F, 0x3A, 0x5F)  # the table header
RED = (0xC6, 0x28, 0x28)  # a failed check's badge
GREEN = (0x2E, 0x7D, 0x32)  # a passed check's badge


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                best = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + best) & 0xFF
        rows.append(bytes(line[j] for i in range(0, stride, channels) for j in (i, i + 1, i + 2)))
        previous = line
    return width, height, rows


def screenshot(page: Path, shot: Path, height: int) -> tuple[int, int, list[bytes]]:
    """``page`` as headless Chromium draws it 1280 pixels wide, saved to ``shot``; its pixels."""
    subprocess.run(
        [
            require_tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size=1280,{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return png_pixels(shot.read_bytes())


def first_row_with(rows: list[bytes], color: tuple[int, int, int]) -> int | None:
    needle = bytes(color)
    for y, row in enumerate(rows):
        for x in range(0, len(row), 3):
            if row[x : x + 3] == needle:
                return y
    return None


def test_the_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    done = spbe_kit(
        "audit",
        str(ROOT / "examples/profiles/demo.yaml"),
        "--tree",
        str(tmp_path / "tree"),
        "-o",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    shot = tmp_path / "audit.png"
    width, height, rows = screenshot(report, shot, 2400)
    assert (width, height) == (1280, 2400)
    header, failed, passed = (first_row_with(rows, c) for c in (NAVY, RED, GREEN))
    assert header is not None, "the table header did not render"
    assert failed is not None and passed is not None, "status badges did not render"
    assert header < failed < passed, "failed checks come first, right under the header"


def test_the_fleet_page_sorts_and_filters_in_headless_chromium(tmp_path: Path) -> None:
    """The fleet page's inline script, run by Chromium: a link's #sort=-6 orders the regions
    by certificate days, highest first; &filter= hides every other row."""
    from unit.test_fleet import region_report, signed_file

    from spbe_kit.fleet import keys

    browser = require_tool("chromium")
    folder = tmp_path / "fleet"
    (folder / "keys").mkdir(parents=True)
    for code, name, days in (
        ("32.15", "Kabupaten Karawang", 40),
        ("19.02", "Kabupaten Belitung", 300),
        ("14.08", "Kabupaten Siak", 90),
    ):
        report = region_report(code, name)
        report["apps"][0]["cert_days"] = days
        profile = tmp_path / f"{code}.yaml"
        signed_file(folder / f"{code}.json", report, profile)
        (folder / "keys" / f"{code}.pub").write_text(keys.public_path(profile).read_text())
    page = tmp_path / "fleet.html"
    assert spbe_kit("fleet", "report", str(folder), "-o", str(page)).returncode == 0

    def rows(fragment: str) -> list[tuple[str, bool]]:
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri() + fragment],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        found = re.findall(
            r'<tr class="[^"]*" data-attention="\d"( style="display: none;")?>\s*<td data-sort="([0-9.]+)"',
            body,
        )
        return [(code, not hidden) for hidden, code in found]

    assert rows("") == [("14.08", True), ("19.02", True), ("32.15", True)]
    assert rows("#sort=-6") == [("19.02", True), ("14.08", True), ("32.15", True)]
    assert rows("#sort=6&filter=karawang") == [("32.15", True), ("14.08", False), ("19.02", False)]
