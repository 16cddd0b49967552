"""`syllabus db`: schema migrations of the store."""
from __future__ import annotations

import typer

from syllabus.cli.common import SyllabusGroup, emit_json, info, store, workspace

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Migrate the store's schema (Alembic).")


@app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the store to REVISION (default: head)."""
    from syllabus.store import migrate

    st = store(workspace(), check=False)
    try:
        rev = migrate.upgrade(st.engine, revision)
    finally:
        st.close()
    info(f"store at {rev}")


@app.command("downgrade")
def downgrade_cmd(revision: str = typer.Argument(..., help="Target revision, or `base`.")) -> None:
    """Downgrade the store to REVISION (`base` drops every table)."""
    from syllabus.store import migrate

    st = store(workspace(), check=False)
    try:
        rev = migrate.downgrade(st.engine, revision)
    finally:
        st.close()
    info(f"store at {rev or 'base'}")


@app.command("current")
def current_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Print the store's revision and the head revision."""
    from syllabus.store import migrate

    st = store(workspace(), check=False)
    try:
        with st.engine.connect() as conn:
            current = migrate.current_revision(conn)
    finally:
        st.close()
    head = migrate.head_revision()
    if as_json:
        emit_json({"store": st.url, "current": current, "head": head, "at_head": current == head})
    else:
        typer.echo(f"{current or 'base'}{' (head)' if current == head else f' (head is {head})'}")


@app.command("history")
def history_cmd() -> None:
    """List the migration revisions, oldest first."""
    from syllabus.store import migrate

    for rev in migrate.revisions():
        typer.echo(rev)
