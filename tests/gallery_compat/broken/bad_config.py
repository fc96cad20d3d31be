"""
A bad in-file config value
==========================

sphinx-gallery refuses a thumbnail number that is not an integer.
"""

# sphinx_gallery_thumbnail_number = "two"
print(1)
