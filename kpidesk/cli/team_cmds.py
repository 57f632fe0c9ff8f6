"""Team workspace commands: ``team init`` and ``db copy``."""

from __future__ import annotations

import argparse
from typing import Any

from kpidesk.cli.common import command_group, print_table
from kpidesk.errors import KpideskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("team", help="a shared workspace on PostgreSQL")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = tsub.add_parser(
        "init", help="create the schema and the kpidesk_viewer / kpidesk_editor roles (admin)"
    )
    a.add_argument(
        "url", help="postgresql://user@host/database (password from PGPASSWORD/.pgpass/pg_service.conf)"
    )
    a.add_argument("--dry-run", action="store_true", help="print the SQL instead of running it")
    a.set_defaults(handler=cmd_team_init)

    dsub = command_group(sub, "db", "whole-workspace operations")
    a = dsub.add_parser("copy", help="copy a workspace between two files/URLs, verified per table")
    a.add_argument("source")
    a.add_argument("dest")
    a.add_argument("--replace", action="store_true", help="overwrite a destination that has data")
    a.set_defaults(handler=cmd_db_copy)


def cmd_team_init(args: Any) -> int:
    from sqlalchemy import create_engine, text

    from kpidesk.storage import pg
    from kpidesk.storage.db import open_database, strip_password

    if not args.url.startswith("postgresql"):
        raise KpideskError("team init needs a postgresql:// URL.")
    if args.dry_run:
        engine = create_engine(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:  # only used to compile for the PostgreSQL dialect
            statements = pg.schema_statements(conn)
        statements += pg.change_counter_statements() + pg.role_statements()
        print(";\n\n".join(statements) + ";")
        return 0
    db = open_database(args.url)  # creates and migrates the schema, installs the change counter
    try:
        with db.engine.begin() as conn:
            for statement in pg.role_statements():
                conn.execute(text(statement))
    finally:
        db.close()
    print(
        f"Team workspace ready at {strip_password(args.url)}. Grant people a role, e.g.\n"
        f"  GRANT {pg.EDITOR} TO alice;   GRANT {pg.VIEWER} TO bob;"
    )
    return 0


def cmd_db_copy(args: Any) -> int:
    from kpidesk.storage.copy import copy_workspace
    from kpidesk.storage.db import open_database

    source = open_database(args.source, read_only=not args.source.startswith("postgresql"))
    try:
        dest = open_database(args.dest)
        try:
            checks = copy_workspace(source, dest, replace=args.replace)
        finally:
            dest.close()
    finally:
        source.close()
    print_table(
        ["table", "rows", "sha256"], [(c.table, c.rows, c.checksum[:16]) for c in checks], align_right=(1,)
    )
    print(f"Copied and verified {sum(c.rows for c in checks):,} rows in {len(checks)} tables.")
    return 0
