"""State handlers: Slack on failures (webhook from the SLACK_WEBHOOK_URL secret) and a custom handler."""
import prefect_storage
from prefect_storage import Flow, task
from prefect_storage.engine.state import Failed, Success
from prefect_storage.utilities.notifications import slack_notifier

seen = []


def record_state(obj, old_state, new_state):
    seen.append((obj.name, type(new_state).__name__))
    logger = prefect_storage.context.get("logger")
    logger.info("%s is now %s", obj.name, type(new_state).__name__)
    return new_state


handler = slack_notifier(only_states=[Failed])


@task(state_handlers=[handler, record_state])
def divide(a, b):
    return a / b


@task(state_handlers=[handler])
def fine():
    return "ok"


with Flow("slack-alerts", state_handlers=[slack_notifier(only_states=[Success, Failed])]) as flow:
    ok = fine()
    broken = divide(1, 0)

flow.set_reference_tasks([ok])
