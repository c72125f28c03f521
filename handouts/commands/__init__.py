"""Use cases: one typed function per command.

``cli`` (and ``serve``) parse their input, call one of these and present what
comes back; nothing here prints. Each module imports what its command needs
when it runs, so ``handouts --help`` loads none of it.
"""
