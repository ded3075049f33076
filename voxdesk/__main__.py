"""`python -m voxdesk` behaves exactly like the `voxdesk` command."""

import sys

from voxdesk.cli import main

sys.exit(main())
