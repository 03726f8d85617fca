"""The ``detector`` command line: thin adapters over domain functions.

Exit codes: 0 success, 1 the work found a problem, 2 bad usage or input, 3 an external service failed.
"""

from __future__ import annotations

import logging

import typer

from detector.cli import admin as admin_cmd
from detector.cli import bench as bench_cmd
from detector.cli import clusters as clusters_cmd
from detector.cli import db as db_cmd
from detector.cli import evaluate as evaluate_cmd
from detector.cli import metrics as metrics_cmd
from detector.cli import ingest as ingest_cmd
from detector.cli import ops as ops_cmd
from detector.cli import prompts as prompts_cmd
from detector.cli import report as report_cmd
from detector.cli import slack as slack_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
app.add_typer(db_cmd.app, name="db")
app.add_typer(slack_cmd.app, name="slack")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(prompts_cmd.app, name="prompts")
app.add_typer(admin_cmd.app, name="admin")
app.command("ingest")(ingest_cmd.ingest)
app.command("worker")(ops_cmd.worker)
app.command("beat")(ops_cmd.beat)
app.command("status")(ops_cmd.status)
app.command("rejected")(ops_cmd.rejected)
app.command("config")(ops_cmd.config)
app.command("demo")(ops_cmd.demo)
app.command("recluster")(clusters_cmd.recluster)
app.command("eval")(evaluate_cmd.eval_command)
app.add_typer(metrics_cmd.app, name="metrics")
app.command("report")(report_cmd.report)


def main() -> None:
    from detector.settings import get_settings

    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level.upper() != "DEBUG":
        # One line per task or migration step drowns a command's output; workers keep their own log.
        for name in ("celery.app.trace", "alembic.runtime.migration", "kombu.connection"):
            quiet = settings.tasks_run_inline or name.startswith("alembic")
            logging.getLogger(name).setLevel(logging.ERROR if quiet else logging.INFO)
    app()
