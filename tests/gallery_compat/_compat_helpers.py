"""A helper module next to the tutorials: imported by them, never a page itself."""

GREETING = "hello from the helper module"


def double(value: int) -> int:
    return 2 * value
