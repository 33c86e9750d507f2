"""``python -m pyforge.analysis``: the analysis commands without the rest of the CLI."""

import sys

from pyforge.analysis.runcache import fast_main

if __name__ == "__main__":
    # An unchanged tree is answered from the run cache before typer is imported.
    code = fast_main(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from pyforge.analysis.cli import main

    main()
