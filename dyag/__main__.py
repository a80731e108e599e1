import sys

from dyag.cli import main

sys.exit(main())
