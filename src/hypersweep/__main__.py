"""``python -m hypersweep``: the same command line as the ``hypersweep`` executable.

See `hypersweep.cli`.
"""

from hypersweep.cli import main

if __name__ == "__main__":
    main()
