"""Paginate with LOOP, skip empty work with SKIP, and finish early with SUCCESS."""
import prefect_storage as prefect
from prefect_storage import Flow, task
from prefect_storage.engine.signals import LOOP, SKIP, SUCCESS


@task
def fetch_pages():
    loop = prefect.context.get("task_loop_result", {"page": 0, "items": []})
    page = loop["page"] + 1
    items = loop["items"] + [f"item-{page}"]
    if page < 4:
        raise LOOP(message=f"page {page}", result={"page": page, "items": items})
    return items


@task
def maybe_archive(items):
    if len(items) < 10:
        raise SKIP("nothing to archive")
    return "archived"


@task
def short_circuit():
    raise SUCCESS("already up to date", result="cached")


@task
def after_archive(x):
    return "ran"


with Flow("signals-loop") as flow:
    items = fetch_pages()
    archived = maybe_archive(items)
    after = after_archive(archived)
    early = short_circuit()
