from automation.cli.main import main

if __name__ == "__main__":  # (not when a child process imports the main module)
    raise SystemExit(main())
