"""
A title with a short underline
=========================

Sphinx, without ``-W``, warns that this title's underline is shorter than the title and
renders the page all the same; so does a tolerant build here, and it lists the warning.

The docstring closes below with a line that a linter would flag, and the comment that
silences it is not part of the text.  # noqa: E501
"""

# %%
# A section with *unclosed emphasis
# ----------------------------------
# The heading above opens emphasis it never closes: docutils warns, and the asterisk shows
# as written. A line of a text block that runs long may end with the comment that sphinx-gallery strips.  # noqa: E501
print("rendered despite the warnings")
