"""
A helper module next to the script
==================================

The script's folder is importable, as in sphinx-gallery: ``_compat_helpers.py`` sits next to
it and is imported like any module.
"""

# %%
# Import it
# ---------
import _compat_helpers

print(_compat_helpers.GREETING, _compat_helpers.double(21))
