import sys

from snomprov.cli import main

sys.exit(main())
