"""`python -m grokkit.engines`: one worker process of the sweep's "processes" engine (engines.worker.main).

An entry of its own: `python -m grokkit.engines.worker` would run a module that `import grokkit` has
already imported (through engines.sweep), which runpy warns about in every worker."""

from grokkit.engines.worker import main

main()
