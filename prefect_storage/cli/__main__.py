from prefect_storage.cli import main

main()
