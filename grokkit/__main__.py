import sys

from grokkit.cli import main

sys.exit(main())
