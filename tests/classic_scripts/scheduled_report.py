"""A daily report on a cron schedule, only on weekdays, plus an hourly clock."""
import datetime

import prefect_storage as prefect
from prefect_storage import Flow, task
from prefect_storage.schedules import Schedule, filters
from prefect_storage.schedules.clocks import CronClock, IntervalClock

schedule = Schedule(
    clocks=[
        CronClock("0 6 * * *"),
        IntervalClock(interval=datetime.timedelta(hours=1), start_date=datetime.datetime(2024, 1, 1)),
    ],
    filters=[filters.is_weekday],
)


@task
def build_report():
    return f"report for {prefect.context.get('today')}"


with Flow("scheduled-report", schedule) as flow:
    report = build_report()
