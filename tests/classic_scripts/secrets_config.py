"""Credentials from Prefect secrets and environment variables."""
from prefect_storage import Flow, task
from prefect_storage.client import Secret
from prefect_storage.tasks.secrets import EnvVarSecret, PrefectSecret


@task
def connect(token, port, client_secret_len):
    return {"token_len": len(token), "port": port, "client_secret_len": client_secret_len}


@task
def client_secret_length():
    return len(Secret("API_TOKEN").get())


with Flow("secrets-config") as flow:
    token = PrefectSecret("API_TOKEN")
    port = EnvVarSecret("DB_PORT", cast=int, raise_if_missing=True)
    conn = connect(token, port, client_secret_length())
