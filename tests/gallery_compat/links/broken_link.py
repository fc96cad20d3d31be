"""
Links in the text
=================

A link to `the gallery <../>`_ names a page of the site, one to `a missing page
<../no-such-page/>`_ does not, and `Python <https://www.python.org>`_ is another site's
page, which the build does not fetch.
"""

print("links")
