"""Regenerate the frozen golden outputs (deliberately; explain the change in the commit).

python tests/golden/regenerate.py [CASE ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, DATA, strip


def main(names: list[str]) -> int:
    from kinresist.core.serialise import to_json

    DATA.mkdir(parents=True, exist_ok=True)
    for name in names or list(CASES):
        with tempfile.TemporaryDirectory() as tmp:
            doc = json.loads(to_json(CASES[name](Path(tmp))))
        (DATA / f"{name}.json").write_text(json.dumps(strip(doc), indent=1, sort_keys=True) + "\n")
        print(f"wrote {DATA / f'{name}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
