"""From settings to a run: the option table (``options``), ``build``, the Trainer and what runs
beside it (``callbacks``, ``checkpoints``, ``interrupt``)."""
