from spbe_app.server import main

main()
