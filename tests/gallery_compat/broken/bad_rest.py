"""
An unknown directive
====================

.. not-a-directive:: nothing

Sphinx reports it as an error.
"""

print(1)
