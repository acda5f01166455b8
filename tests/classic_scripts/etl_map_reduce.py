"""Extract a list of records, clean each one in parallel (map), aggregate (reduce)."""
import datetime
import json
import os

import prefect_storage as prefect
from prefect_storage import Flow, Parameter, flatten, task, unmapped
from prefect_storage.run_configs import LocalRun


@task
def extract(n_batches, batch_size):
    logger = prefect.context.get("logger")
    logger.info("Extracting %s batches of %s", n_batches, batch_size)
    return [[{"id": b * batch_size + i, "value": str(i * 10)} for i in range(batch_size)] for b in range(n_batches)]


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
def transform(record, multiplier):
    return {"id": record["id"], "value": int(record["value"]) * multiplier}


@task
def load(records):
    total = sum(r["value"] for r in records)
    out = os.environ.get("ETL_OUTPUT")
    if out:
        with open(out, "w") as fh:
            json.dump({"count": len(records), "total": total}, fh)
    return total


with Flow("etl-map-reduce", run_config=LocalRun(labels=["etl"])) as flow:
    n_batches = Parameter("n_batches", default=3)
    batch_size = Parameter("batch_size", default=4)
    multiplier = Parameter("multiplier", default=2)
    batches = extract(n_batches, batch_size)
    cleaned = transform.map(flatten(batches), unmapped(multiplier))
    total = load(cleaned)

if __name__ == "__main__":
    flow.run()
