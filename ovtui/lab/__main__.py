"""`python -m ovtui.lab ...`, the same commands as `ovtui lab ...`."""

import sys

from ovtui.lab.cli import main

sys.exit(main())
