"""Launcher so ``python cli.py ...`` works from a checkout; the app lives in hessian_lab.cli."""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from hessian_lab.cli import main

    main()
