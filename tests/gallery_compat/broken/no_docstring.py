print("sphinx-gallery refuses a script without a docstring")
