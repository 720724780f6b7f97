from spbe_kit.cli import main

main()
