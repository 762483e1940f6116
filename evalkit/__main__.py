"""`python -m evalkit ...` (how `accelerate launch -m evalkit run ...` starts each process)."""

from evalkit.cli.main import console_main

if __name__ == "__main__":
    console_main()
