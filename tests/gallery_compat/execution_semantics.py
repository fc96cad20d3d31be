"""
Running as sphinx-gallery runs a script
=======================================

The script runs as ``__main__`` with no command-line arguments, so ``argparse`` sees its
defaults; ``__doc__`` is empty, as sphinx-gallery leaves it.
"""

import argparse
import sys

parser = argparse.ArgumentParser(description="options a reader could pass")
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()
print("argv:", sys.argv)
print("epochs:", args.epochs)
print("main:", __name__ == "__main__")
print(__doc__)

# %%
# Reading input is refused
# ------------------------
# Nobody can type an answer while the site is built.
try:
    input("your name? ")
except RuntimeError as error:
    print("input() refused:", error)
