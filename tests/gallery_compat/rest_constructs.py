r"""
.. _rest-constructs:

reST constructs
===============

Every construct sphinx-gallery's own examples use, rendered the way a reader expects. The
loss :math:`L = \frac{1}{n}\sum_i (y_i - \hat{y}_i)^2` has the gradient
:math:`\nabla_w L`, and :math:`a_1 * b_2` stays one formula even with a star in it. The
|project| uses `Python`_ and `the docs <https://docs.python.org/3/>`__.

.. |project| replace:: *compatibility suite*
.. _Python: https://www.python.org
"""

# %%
# Math and code
# -------------
#
# .. math::
#
#    \hat{y} &= W x + b \\
#    L &= \lVert y - \hat{y} \rVert^2
#
# .. code-block:: bash
#
#    python rest_constructs.py
#
# A literal block::
#
#    x = [1, 2, 3]
#
# >>> 1 + 1
# 2
#
# Third level
# ^^^^^^^^^^^
#
# Fourth level
# """"""""""""
#
# Text under the fourth level, with an anonymous link__.
#
# __ https://www.python.org/dev/peps/
import math

print("math.pi is", round(math.pi, 4))

# %%
# .. _admonitions-label:
#
# Admonitions
# -----------
#
# .. note:: A note.
#
# .. warning:: A warning.
#
# .. seealso:: :ref:`the targets page <compat-targets>`
#
# .. tip:: A tip.
#
# .. important:: Something important.
#
# .. hint:: A hint.
#
# .. caution:: Caution.
#
# .. danger:: Danger.
#
# .. attention:: Attention.
#
# .. error:: An error.
#
# .. admonition:: A custom title
#
#    A generic admonition, with *inline* markup.

# %%
# Images and files
# ----------------
#
# .. image:: diagram.svg
#    :alt: An inline diagram
#
# .. figure:: diagram.svg
#    :alt: The same diagram, as a figure
#
#    The figure's caption.
#
# Download :download:`the data <compat_data.csv>` or :download:`compat_data.csv`.

# %%
# References
# ----------
#
# A label on this page: :ref:`admonitions-label`; on another page:
# :ref:`compat-targets` and :ref:`its section <targets-section>`; a heading by its title:
# :ref:`A heading to link to`; a document: :doc:`rest_targets`; a label of another site
# stays text: :ref:`some-other-site-label`. API roles: :func:`os.path.join`,
# :class:`pathlib.Path`, :meth:`pathlib.Path.read_text`, :mod:`json`, :attr:`sys.argv`,
# :func:`numpy.linspace`, :class:`~collections.OrderedDict`.
#
# .. rst-class:: sphx-glr-horizontal
#
# * a list after ``rst-class``
# * second item
#
# .. only:: html
#
#    Only-html text is kept.
#
# .. only:: latex
#
#    Only-latex text is dropped.
#
# .. versionadded:: 1.0
#    The versionadded note.

# %%
# Lists, tables and more
# ----------------------
#
# term
#    Its definition.
#
# :field: A field list.
#
# =====  =====
# A      B
# =====  =====
# 1      2
# =====  =====
#
# .. list-table:: A list table
#    :header-rows: 1
#
#    * - Name
#      - Value
#    * - alpha
#      - 1
#
# A footnote reference [#note]_ and :kbd:`Ctrl+C` and :abbr:`GPU (graphics processing unit)`.
#
#    An indented block quote.
#
# | A line block,
# | two lines.
#
# .. [#note] The footnote.
print("done")
