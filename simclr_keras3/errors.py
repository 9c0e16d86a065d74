"""Errors about the user's input: the CLI prints them as one line and exits with status 2."""


class UserInputError(ValueError):
    """Input the user can fix (a bad option, a missing file, an unusable dataset).

    The message must say what is wrong and what to do about it, in one line.
    """
