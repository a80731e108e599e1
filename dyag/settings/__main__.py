"""``python -m dyag.settings [README.md]``: rewrite the README's configuration reference."""

import sys
from pathlib import Path

from dyag.settings.views import write_reference

target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
print(f"{target}: {'updated' if write_reference(target) else 'up to date'}")
