"""`python -m fsf …`: the `fsf` command line (:mod:`fsf.cli.fsf_tool`)."""

from fsf.cli.fsf_tool import main

if __name__ == "__main__":
    main()
