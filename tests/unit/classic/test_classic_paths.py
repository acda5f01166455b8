"""Every classic module path flow code imports exists under prefect_storage with the
classic names, and re-exports the one implementation (the same objects)."""

from __future__ import annotations

import importlib
import warnings

import pytest

PATHS: dict[str, list[str]] = {
    "prefect_storage": ["Flow", "Task", "Parameter", "task", "case", "unmapped", "mapped", "flatten", "apply_map",
                        "resource_manager", "tags", "context"],
    "prefect_storage.core": ["Edge", "Flow", "Parameter", "Task"],
    "prefect_storage.core.task": ["Task"],
    "prefect_storage.core.flow": ["Flow"],
    "prefect_storage.core.parameter": ["Parameter", "DateTimeParameter"],
    "prefect_storage.core.edge": ["Edge"],
    "prefect_storage.run_configs": ["RunConfig", "UniversalRun", "LocalRun", "DockerRun", "KubernetesRun", "ECSRun",
                                    "VertexRun"],
    "prefect_storage.run_configs.base": ["RunConfig", "UniversalRun"],
    "prefect_storage.run_configs.universal": ["UniversalRun"],
    "prefect_storage.run_configs.local": ["LocalRun"],
    "prefect_storage.run_configs.docker": ["DockerRun"],
    "prefect_storage.run_configs.kubernetes": ["KubernetesRun"],
    "prefect_storage.run_configs.ecs": ["ECSRun"],
    "prefect_storage.run_configs.vertex": ["VertexRun"],
    "prefect_storage.schedules": ["Schedule", "IntervalSchedule", "CronSchedule", "RRuleSchedule", "clocks", "filters",
                                  "adjustments"],
    "prefect_storage.schedules.schedules": ["Schedule", "IntervalSchedule", "CronSchedule", "RRuleSchedule"],
    "prefect_storage.schedules.clocks": ["Clock", "ClockEvent", "IntervalClock", "CronClock", "DatesClock", "RRuleClock"],
    "prefect_storage.schedules.filters": ["on_datetime", "between_datetimes", "on_date", "between_dates", "at_time",
                                          "between_times", "is_weekday", "is_weekend", "is_month_end", "is_month_start",
                                          "is_day_of_week"],
    "prefect_storage.schedules.adjustments": ["add", "next_weekday"],
    "prefect_storage.executors": ["Executor", "LocalExecutor", "LocalDaskExecutor", "DaskExecutor"],
    "prefect_storage.executors.base": ["Executor"],
    "prefect_storage.executors.local": ["LocalExecutor"],
    "prefect_storage.executors.dask": ["LocalDaskExecutor", "DaskExecutor"],
    "prefect_storage.engine.executors": ["Executor", "LocalExecutor", "LocalDaskExecutor", "DaskExecutor"],
    "prefect_storage.engine.executors.local": ["LocalExecutor"],
    "prefect_storage.engine.executors.dask": ["LocalDaskExecutor", "DaskExecutor"],
    "prefect_storage.engine": ["FlowRunner", "TaskRunner", "get_default_executor_class",
                               "get_default_flow_runner_class", "get_default_task_runner_class"],
    "prefect_storage.engine.flow_runner": ["FlowRunner"],
    "prefect_storage.engine.task_runner": ["TaskRunner"],
    "prefect_storage.engine.runner": ["Runner", "ENDRUN"],
    "prefect_storage.engine.state": ["State", "Pending", "Scheduled", "Paused", "Resume", "Retrying", "Queued",
                                     "Submitted", "ClientFailed", "Running", "Cancelling", "Finished", "Looped",
                                     "Success", "Cached", "Mapped", "Skipped", "Cancelled", "Failed", "TimedOut",
                                     "TriggerFailed", "ValidationFailed"],
    "prefect_storage.engine.signals": ["ENDRUN", "PrefectStateSignal", "FAIL", "TRIGGERFAIL", "VALIDATIONFAIL",
                                       "SUCCESS", "RETRY", "SKIP", "PAUSE", "LOOP", "signal_from_state"],
    "prefect_storage.engine.cache_validators": ["never_use", "duration_only", "all_inputs", "all_parameters",
                                                "partial_inputs_only", "partial_parameters_only"],
    "prefect_storage.engine.result": ["Result", "NoResult", "NoResultType"],
    "prefect_storage.engine.results": ["AzureResult", "ConstantResult", "GCSResult", "LocalResult", "PrefectResult",
                                       "S3Result", "SecretResult"],
    "prefect_storage.engine.results.local_result": ["LocalResult"],
    "prefect_storage.engine.serializers": ["Serializer", "PickleSerializer", "JSONSerializer", "DateTimeSerializer",
                                           "PandasSerializer", "CompressedSerializer"],
    "prefect_storage.triggers": ["all_finished", "always_run", "manual_only", "all_successful", "all_failed",
                                 "any_successful", "any_failed", "some_failed", "some_successful", "not_all_skipped"],
    "prefect_storage.utilities.edges": ["EdgeAnnotation", "mapped", "unmapped", "flatten"],
    "prefect_storage.utilities.tasks": ["tags", "as_task", "task", "apply_map", "defaults_from_attrs", "unmapped"],
    "prefect_storage.utilities.notifications": ["callback_factory", "gmail_notifier", "slack_message_formatter",
                                                "slack_notifier"],
    "prefect_storage.utilities.logging": ["get_logger"],
    "prefect_storage.utilities.context": ["Context", "context"],
    "prefect_storage.utilities.configuration": ["set_temporary_config"],
    "prefect_storage.utilities.debug": ["raise_on_exception"],
    "prefect_storage.utilities.collections": ["DotDict", "as_nested_dict"],
    "prefect_storage.utilities.exceptions": ["PrefectSignal", "TaskTimeoutSignal", "PrefectException",
                                             "FlowStorageError"],
    "prefect_storage.exceptions": ["PrefectSignal", "TaskTimeoutSignal", "VersionLockMismatchSignal",
                                   "PrefectException", "ClientError", "ObjectNotFoundError", "AuthorizationError",
                                   "FlowStorageError"],
    "prefect_storage.client": ["Secret"],
    "prefect_storage.client.secrets": ["Secret"],
    "prefect_storage.tasks.core.constants": ["Constant"],
    "prefect_storage.tasks.core.function": ["FunctionTask"],
    "prefect_storage.tasks.control_flow": ["FilterTask", "case", "ifelse", "merge", "switch"],
    "prefect_storage.tasks.shell": ["ShellTask"],
    "prefect_storage.tasks.secrets": ["SecretBase", "PrefectSecret", "EnvVarSecret"],
    "prefect_storage.tasks.notifications": ["EmailTask", "SlackTask"],
    "prefect_storage.tasks.files": ["Copy", "Glob", "Move", "Remove", "Zip", "Unzip"],
    "prefect_storage.tasks.prefect": ["create_flow_run", "wait_for_flow_run", "get_task_run_result", "StartFlowRun"],
    "prefect_storage.backend": ["set_key_value", "get_key_value", "delete_key", "list_keys", "create_link_artifact",
                                "create_markdown_artifact"],
    "prefect_storage.artifacts": ["create_link", "create_markdown", "update_link", "update_markdown",
                                  "delete_artifact"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_classic_path_imports_with_its_names(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in PATHS[module] if not hasattr(mod, name)]
    assert missing == []
    if hasattr(mod, "__all__"):
        assert [n for n in mod.__all__ if not hasattr(mod, n)] == []


@pytest.mark.parametrize(
    ("shim", "implementation"),
    [
        ("prefect_storage.run_configs.KubernetesRun", "prefect_storage.core.run_config.KubernetesRun"),
        ("prefect_storage.engine.state.Success", "prefect_storage.core.state.Success"),
        ("prefect_storage.engine.signals.FAIL", "prefect_storage.core.signals.FAIL"),
        ("prefect_storage.triggers.any_failed", "prefect_storage.core.triggers.any_failed"),
        ("prefect_storage.utilities.edges.unmapped", "prefect_storage.core.edges.unmapped"),
        ("prefect_storage.utilities.tasks.defaults_from_attrs", "prefect_storage.core.utilities.defaults_from_attrs"),
        ("prefect_storage.engine.results.LocalResult", "prefect_storage.results.local.LocalResult"),
        ("prefect_storage.engine.serializers.JSONSerializer", "prefect_storage.serializers.JSONSerializer"),
        ("prefect_storage.client.Secret", "prefect_storage.secrets.Secret"),
        ("prefect_storage.executors.LocalExecutor", "prefect_storage.core.executors.LocalExecutor"),
        ("prefect_storage.schedules.IntervalSchedule", "prefect_storage.core.schedules.schedules.IntervalSchedule"),
    ],
)
def test_paths_re_export_the_one_implementation(shim: str, implementation: str) -> None:
    def resolve(dotted: str) -> object:
        module, name = dotted.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)

    assert resolve(shim) is resolve(implementation)


def test_old_executor_paths_warn_and_work() -> None:
    from prefect_storage.engine.executors import LocalExecutor
    from prefect_storage.executors import LocalExecutor as NewLocalExecutor

    with pytest.warns(UserWarning, match="prefect_storage.engine.executors.LocalExecutor has been moved to"):
        executor = LocalExecutor()
    assert isinstance(executor, NewLocalExecutor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NewLocalExecutor()


def test_set_temporary_config_default_classes_and_raise_on_exception() -> None:
    from prefect_storage import Flow, task
    from prefect_storage.core.configuration import config
    from prefect_storage.engine import FlowRunner, get_default_executor_class, get_default_flow_runner_class
    from prefect_storage.executors import LocalDaskExecutor, LocalExecutor
    from prefect_storage.utilities.configuration import set_temporary_config
    from prefect_storage.utilities.debug import raise_on_exception

    assert get_default_executor_class() is LocalExecutor and get_default_flow_runner_class() is FlowRunner
    with set_temporary_config({"engine.executor.default_class": "prefect.executors.LocalDaskExecutor"}):
        assert get_default_executor_class() is LocalDaskExecutor
    with set_temporary_config({"engine.executor.default_class": "nowhere.Executor"}), pytest.warns(
        UserWarning, match="Could not import nowhere.Executor; using"
    ):
        assert get_default_executor_class() is LocalExecutor
    with set_temporary_config({"flows.checkpointing": True}) as cfg:
        assert cfg.flows.checkpointing is True and config.flows.checkpointing is True

    @task
    def boom():
        raise KeyError("debug me")

    with Flow("debug") as flow:
        boom()
    assert flow.run().is_failed()
    with raise_on_exception(), pytest.raises(KeyError, match="debug me"):
        flow.run()


def test_dotdict() -> None:
    from prefect_storage.utilities.collections import DotDict, as_nested_dict

    d = as_nested_dict({"a": {"b": [{"c": 1}]}})
    assert isinstance(d, DotDict) and d.a.b[0].c == 1
    d.x = 2
    assert d["x"] == 2 and d.to_dict() == {"a": {"b": [{"c": 1}]}, "x": 2}


def test_submodules_are_reachable_as_attributes_after_import_prefect_storage() -> None:
    import prefect_storage

    assert prefect_storage.engine.state.Failed.__name__ == "Failed"
    assert prefect_storage.engine.signals.SKIP.__name__ == "SKIP"
    assert callable(prefect_storage.utilities.notifications.slack_notifier)
    assert prefect_storage.utilities.edges.unmapped is prefect_storage.unmapped
    assert prefect_storage.run_configs.KubernetesRun.__name__ == "KubernetesRun"
