"""``python -m pyforge.analysis``: the analysis commands without the rest of the CLI."""

import sys

from pyforge.analysis.runcache import fast_main

if __name__ == "__main__":
    # An unchanged tree is answered from the run cache before typer is imported, and any
    # other plain command line is analysed without it too.
    code = fast_main(sys.argv[1:])
    if code is None:
        from pyforge.analysis.command import fast_analyze

        code = fast_analyze(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from pyforge.analysis.cli import main

    main()
