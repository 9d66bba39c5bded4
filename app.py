"""``create_app(settings=None)``: wires blueprints, database, Redis, queues and the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface

import commands
import insights.cli
import ops
import simulator
import sms
import ussd
from menus import Catalogs, build_engine
from settings import ROOT, Settings
from sms.runtime import Runtime, build_runtime
from ussd.endpoint import WRONG_TOKEN, UssdEndpoint, token_matches

__all__ = ["create_app", "runtime_of", "CALLBACK_PATHS"]

# Every callback from Africa's Talking: guarded by WEBHOOK_TOKEN when it is set.
CALLBACK_PATHS = frozenset({"/ussd", "/ussd/events", "/sms/inbound", "/sms/delivery", "/sms/optout"})

log = logging.getLogger("minerline")


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie session, not opened for the gateway's callbacks: they never use one, and
    reading it (a signing serializer made per request) was a noticeable part of answering them."""

    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def,override]
        if request.path in CALLBACK_PATHS:
            return None  # Flask puts a null session in its place and saves nothing
        return super().open_session(app, request)


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["minerline"]


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or Settings.from_env()
    ops.configure_logging(settings)
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing)
    app.session_interface = _CookieSessions()
    runtime = runtime or build_runtime(settings)
    catalogs = Catalogs.load(settings.locales_dir)
    app.extensions["minerline"] = runtime
    app.extensions["minerline.catalogs"] = catalogs
    app.extensions["minerline.menus"] = build_engine(catalogs)

    @app.before_request
    def _require_webhook_token() -> None:
        if request.path in CALLBACK_PATHS and not token_matches(settings.webhook_token,
                                                                request.args.get("token", "")):
            abort(403, WRONG_TOKEN)

    app.register_blueprint(ussd.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(simulator.bp)
    app.register_blueprint(ops.bp)
    ops.instrument(app)
    # The gateway's hops skip Flask's request machinery; everything else goes on to Flask.
    app.wsgi_app = UssdEndpoint(app, app.wsgi_app, settings.webhook_token)  # type: ignore[method-assign]
    _register_cli(app)
    return app


def _register_cli(app: Flask) -> None:
    insights.cli.register_cli(app)

    @app.cli.group("db")
    def db() -> None:
        """Database migrations."""

    @db.command("upgrade")
    @click.option("--revision", default="head", show_default=True)
    def db_upgrade(revision: str) -> None:
        """Apply migrations to DATABASE_URL."""
        upgrade_database(runtime_of(app).settings.database_url, revision)
        click.echo("database is up to date")

    @app.cli.group("members")
    def members() -> None:
        """Cooperative members."""

    @members.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def members_import(file: Path) -> None:
        """Import members from FILE.csv (phone,name,gender,cooperative[,role,language,site,district])."""
        from models.importer import ImportError_, import_members

        rt = runtime_of(app)
        with rt.sessions() as session:
            try:
                with session.begin():
                    result = import_members(session, file.read_text(encoding="utf-8-sig", errors="replace"))
            except ImportError_ as exc:
                click.echo(f"Nothing was imported. Fix these rows and try again ({len(exc.errors)}):", err=True)
                for error in exc.errors:
                    click.echo(f"  {error}", err=True)
                raise SystemExit(1) from None
        click.echo(f"Imported: {result.created} new, {result.updated} updated.")
        for name in result.cooperatives_created:
            click.echo(f"New cooperative: {name}")

    @app.cli.command("demo")
    def demo() -> None:
        """Load demonstration data into an empty database."""
        from models.demo import DEMO_NUMBERS, DatabaseNotEmpty, load_demo

        rt = runtime_of(app)
        with rt.sessions() as session:
            try:
                with session.begin():
                    result = load_demo(session)
            except DatabaseNotEmpty as exc:
                click.echo(f"Demo data not loaded: {exc}.")
                return
        click.echo(f"Demo data loaded: {result.created} members.")
        for phone, who in DEMO_NUMBERS:
            click.echo(f"  {phone}  {who}")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    def serve(host: str) -> None:
        """Run everything in one process (embedded mode when REDIS_URL is unset)."""
        from embedded import serve_embedded

        serve_embedded(app, host=host)

    commands.register_cli(app)


def upgrade_database(database_url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
