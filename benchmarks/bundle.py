"""Bundle benchmark: export, verify and import times, and the bundle's size against the sum
of the images' own sizes (what one archive per image would hold; shared layers once here).

Needs the catalog's images built (`spbe-kit images build`) and PyPI for the wheels.
Run: .venv/bin/python benchmarks/bundle.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = [sys.executable, "-m", "spbe_kit", "--lang", "en"]


def timed(*args: str) -> float:
    start = time.monotonic()
    subprocess.run([*KIT, *args], cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="spbe-bundle-bench-") as tmp:
        folder = Path(tmp)
        subprocess.run(
            [*KIT, "bundle", "keygen", "-o", str(folder / "donor")], check=True, capture_output=True
        )
        bundle = folder / "grant.bundle"
        export = timed("bundle", "export", "--key", str(folder / "donor"), "-o", str(bundle))
        verify = timed("bundle", "verify", str(bundle), "--key", str(folder / "donor.pub"))
        imported = timed(
            "bundle", "import", str(bundle), "--key", str(folder / "donor.pub"), "--into", str(folder / "o")
        )
        manifest = json.loads(
            subprocess.run(
                ["tar", "-xOf", str(bundle), "bundle.json"], check=True, capture_output=True
            ).stdout
        )
        sizes = {
            tag: int(
                subprocess.run(
                    ["docker", "image", "inspect", "-f", "{{.Size}}", tag],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for tag in manifest["images"]
        }
        members = manifest["members"]
        images = members["images/images.tar"]["size"]
        wheels = sum(m["size"] for n, m in members.items() if n.startswith("wheels/"))
        size = bundle.stat().st_size
        print(f"images: {len(sizes)}, sum of their sizes {sum(sizes.values()) / 1e6:.0f} MB")
        print(
            f"bundle: {size / 1e6:.0f} MB "
            f"(images archive {images / 1e6:.0f} MB, wheels {wheels / 1e6:.0f} MB)"
        )
        print(f"bundle / sum of image sizes: {size / sum(sizes.values()):.2f}")
        print(f"export {export:.1f} s, verify {verify:.1f} s, import {imported:.1f} s (whole commands)")
        print(f"verify throughput: {size / verify / 1e6:.0f} MB/s")


if __name__ == "__main__":
    main()
