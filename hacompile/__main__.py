from hacompile.cli import main

main()
