"""
An unknown setting, in a strict build
=====================================

A strict build refuses a ``sphinx_gallery_`` setting that sphinx-gallery does not know.
"""

# sphinx_gallery_thumbnial_number = 2

print(1)
