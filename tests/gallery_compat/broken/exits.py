"""
A script that calls sys.exit
============================

``sys.exit()`` ends a sphinx-gallery build at once, leaving every page unwritten.
"""

import sys

print("before the exit")
sys.exit(0)
