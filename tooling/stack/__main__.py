import sys

from tooling.stack.commands import main

sys.exit(main())
