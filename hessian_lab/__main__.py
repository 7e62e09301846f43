"""``python -m hessian_lab``: the command line (see :mod:`hessian_lab.cli`)."""

from hessian_lab.cli import main

if __name__ == "__main__":
    main()
