"""Run shell steps: a helper script, environment variables, all output lines."""
from prefect_storage import Flow, task
from prefect_storage.tasks.shell import ShellTask

shell = ShellTask(helper_script='greet() { echo "hello $1"; }', return_all=True, log_stderr=True)
count_files = ShellTask(name="count", shell="bash", stream_output=True)


@task
def summarize(lines, count):
    return {"lines": lines, "count": int(count)}


with Flow("shell-commands") as flow:
    lines = shell(command='greet "$WHO"; echo second', env={"WHO": "prefect"})
    count = count_files(command="printf 'a\\nb\\nc\\n' | wc -l")
    summary = summarize(lines, count)
