"""`python -m evalkit ...` (how `accelerate launch -m evalkit run ...` starts each process)."""

from evalkit.cli.main import main

if __name__ == "__main__":
    main()
