"""The one error class of nnscratch.

Every error a user can cause (bad shapes, bad labels, bad hyperparameters, bad files) is an
:class:`NnscratchError`. It subclasses :class:`ValueError`, so ``except ValueError`` keeps working,
and the CLI prints its message as one line with exit code 2.
"""


class NnscratchError(ValueError):
    """Something the user gave us is wrong; the message says what and what to do instead."""
