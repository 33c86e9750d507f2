"""``python -m pyforge.analysis``: the analysis commands without the rest of the CLI."""

from pyforge.analysis.cli import main

if __name__ == "__main__":
    main()
