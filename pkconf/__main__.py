"""`python -m pkconf` is the `pkconf` command."""

import sys

from pkconf.cli import main

sys.exit(main())
